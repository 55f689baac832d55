// `lambkin push IMAGE --to REPOSITORY`: tag a local image and push it through the Docker engine; progress on
// stderr (a line per layer change in CI and pipes, one updating line on a terminal), the pushed digest alone on
// stdout, so that `digest=$(lambkin push ...)` works. Any failure: one clear line and exit 1.
import { ECR_ENDPOINT_ENV } from '../packaging/ecr-login.ts';
import { pushImage, type PushProgress } from '../packaging/push.ts';
import { parseFlags, runCommand, UsageError } from './flags.ts';

export const PUSH_USAGE = `usage: lambkin push IMAGE --to REPOSITORY_URI [--username U (--password-stdin | --password P)]

  IMAGE                a local image (name[:tag] or id), as lambkin build or docker build made it
  --to REPOSITORY_URI  where to push: registry/name[:tag]; the tag defaults to IMAGE's own, else latest.
                       Amazon ECR addresses (<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<name>) log in with
                       ECR's GetAuthorizationToken, the region from the address and the standard AWS credentials
                       (AWS_ACCESS_KEY_ID..., AWS_PROFILE and ~/.aws, SSO, container and instance roles)
  --username U         the registry's user. Without it: the Docker config's credentials for the registry
                       ($DOCKER_CONFIG/config.json or ~/.docker/config.json: auths, credsStore, credHelpers
                       through docker-credential-<name>), else anonymous
  --password-stdin     read the password from stdin, e.g.
                       aws ecr get-login-password | lambkin push IMG --to URI --username AWS --password-stdin
  --password P         the password (others can see it in the process list: prefer --password-stdin)
  --ecr-endpoint URL   the ECR API endpoint for the login (default $${ECR_ENDPOINT_ENV}, else AWS's for the
                       region): a VPC endpoint, or a stand-in token service. A stand-in whose proxyEndpoint is
                       not an ECR address (say http://127.0.0.1:5000) is where the image goes

The digest (sha256:...) is printed on stdout; progress goes to stderr.`;

export function main(args: string[]): void {
  runCommand('push', PUSH_USAGE, args, push);
}

async function push(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      to: { type: 'string' },
      username: { type: 'string', short: 'u' },
      password: { type: 'string', short: 'p' },
      'password-stdin': { type: 'boolean' },
      'ecr-endpoint': { type: 'string' },
    },
    { min: 1, max: 1 },
  );
  const image = positionals[0]!;
  const repository = values.to as string | undefined;
  if (!repository) throw new UsageError('--to REPOSITORY_URI is required');
  const username = values.username as string | undefined;
  let password = values.password as string | undefined;
  if (values['password-stdin']) {
    if (password !== undefined) throw new UsageError('--password and --password-stdin exclude each other');
    password = await readStdin();
    if (password === '') throw new UsageError('--password-stdin read an empty password');
  }
  if (password !== undefined && !username) throw new UsageError('a password needs --username');
  if (username && password === undefined) throw new UsageError('--username needs --password-stdin or --password');
  const ecrEndpoint = values['ecr-endpoint'] as string | undefined;
  if (ecrEndpoint !== undefined && !/^https?:\/\/[^/]/.test(ecrEndpoint)) throw new UsageError(`--ecr-endpoint is not a URL: '${ecrEndpoint}'`);

  const progress = progressRenderer(process.stderr);
  try {
    const result = await pushImage({
      image,
      repository,
      ...(username && password !== undefined ? { auth: { username, password } } : {}),
      ...(ecrEndpoint ? { ecr: { endpoint: ecrEndpoint } } : {}),
      onProgress: progress.update,
    });
    progress.done();
    process.stderr.write(`pushed ${result.repository}:${result.tag} (digest ${result.digest}, manifest ${result.size} bytes)\n`);
    process.stdout.write(`${result.digest}\n`);
    return 0;
  } catch (error) {
    progress.done();
    throw error;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

interface ProgressRenderer {
  update(event: PushProgress): void;
  done(): void;
}

/**
 * On a terminal (and not under CI), one line rewritten in place: layers done and bytes sent. Elsewhere, a line
 * whenever a layer's status changes (not one per progress tick), which reads well in a CI log.
 */
export function progressRenderer(
  out: NodeJS.WriteStream | NodeJS.WritableStream,
  tty = Boolean((out as NodeJS.WriteStream).isTTY) && process.env.CI !== 'true',
): ProgressRenderer {
  const layers = new Map<string, { status: string; current: number; total: number }>();
  let drawn = false;
  if (!tty) {
    return {
      update(event) {
        if (!event.id) {
          out.write(`${event.status}\n`);
          return;
        }
        if (layers.get(event.id)?.status === event.status) return;
        layers.set(event.id, { status: event.status, current: 0, total: 0 });
        out.write(`${event.id}: ${event.status}\n`);
      },
      done() {},
    };
  }
  return {
    update(event) {
      if (!event.id) return;
      const layer = layers.get(event.id) ?? { status: '', current: 0, total: 0 };
      layer.status = event.status;
      if (event.total) layer.total = event.total;
      if (event.current !== undefined) layer.current = event.current;
      if (/^(Pushed|Layer already exists|Mounted from)/.test(event.status) && layer.total) layer.current = layer.total;
      layers.set(event.id, layer);
      const finished = [...layers.values()].filter((l) => /^(Pushed|Layer already exists|Mounted from)/.test(l.status)).length;
      let current = 0;
      let total = 0;
      for (const l of layers.values()) {
        current += l.current;
        total += l.total;
      }
      const bytes = total > 0 ? `, ${mb(current)}/${mb(total)} MB` : '';
      out.write(`\r\x1b[Kpushing: ${finished}/${layers.size} layers done${bytes}`);
      drawn = true;
    },
    done() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
