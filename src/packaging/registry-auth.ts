// Which registry an image reference names, and the credentials to push there: from flags, else the Docker CLI's
// config ($DOCKER_CONFIG/config.json or ~/.docker/config.json: `auths`, `credHelpers`, `credsStore`), else none.
// ECR addresses get their credentials from ecr-login.ts instead (see push.ts).
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/** What the engine's X-Registry-Auth carries (dockerode's `authconfig`). */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** An OAuth refresh token some registries hand out (`docker login` stores it as `identitytoken`). */
  identitytoken?: string;
  serveraddress: string;
}

/** `registry/name:tag`, split the way the Docker CLI splits it. */
export interface ImageReference {
  /** The registry host (and port): `docker.io` when the name has none. */
  registry: string;
  /** The repository path within the registry. */
  name: string;
  /** The tag, when the reference has one. */
  tag?: string;
}

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/**
 * Splits `[registry/]name[:tag]`. The first path component is a registry when it has a `.` or a `:`, or is
 * `localhost` (the Docker CLI's rule). A digest (`@sha256:...`) cannot be pushed to, so it is refused.
 */
export function parseImageReference(reference: string): ImageReference {
  if (reference.includes('@')) throw new Error(`'${reference}' names a digest; push needs a repository and a tag`);
  if (reference === '' || /\s/.test(reference)) throw new Error(`'${reference}' is not an image reference`);
  const slash = reference.indexOf('/');
  const first = slash === -1 ? '' : reference.slice(0, slash);
  const hasRegistry = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first : DOCKER_HUB;
  let rest = hasRegistry ? reference.slice(slash + 1) : reference;
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && !rest.slice(colon).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (rest === '' || tag === '') throw new Error(`'${reference}' is not an image reference`);
  if (!hasRegistry && registry === DOCKER_HUB && !rest.includes('/')) rest = `library/${rest}`;
  return { registry, name: rest, ...(tag === undefined ? {} : { tag }) };
}

/** `registry/name` as the engine wants it for tag and push (Docker Hub's names without the registry). */
export function repositoryName(reference: ImageReference): string {
  if (reference.registry !== DOCKER_HUB) return `${reference.registry}/${reference.name}`;
  return reference.name.startsWith('library/') ? reference.name.slice('library/'.length) : reference.name;
}

export interface RegistryAuthOptions {
  /** The registry host[:port], as parseImageReference gives it. */
  registry: string;
  username?: string;
  password?: string;
  /** The Docker CLI's config directory: default $DOCKER_CONFIG, else ~/.docker. */
  dockerConfigDir?: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/**
 * Credentials for `registry`: the username and password given, else the Docker CLI's stored ones (a credential
 * helper, `docker-credential-<name> get`, when the config names one for this registry), else undefined
 * (anonymous; the engine still needs an X-Registry-Auth header, push.ts sends an empty one).
 */
export async function registryAuthFor(options: RegistryAuthOptions): Promise<RegistryAuth | undefined> {
  const { registry } = options;
  const serveraddress = registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : registry;
  if (options.username !== undefined || options.password !== undefined) {
    if (!options.username || options.password === undefined) throw new Error('a username needs a password, and a password a username');
    return { username: options.username, password: options.password, serveraddress };
  }
  const config = await readDockerConfig(options.dockerConfigDir);
  if (!config) return undefined;

  const helper = config.credHelpers?.[registry] ?? (registry === DOCKER_HUB ? config.credHelpers?.[DOCKER_HUB_AUTH_KEY] : undefined) ?? config.credsStore;
  if (helper) {
    const fromHelper = await credentialHelperGet(helper, serveraddress);
    if (fromHelper) return fromHelper;
  }

  const entry = Object.entries(config.auths ?? {}).find(([key]) => authKeyHost(key) === authKeyHost(serveraddress))?.[1];
  if (!entry) return undefined;
  if (entry.identitytoken) return { identitytoken: entry.identitytoken, serveraddress };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new Error(`the Docker config's auth for ${registry} is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress };
  }
  if (entry.username && entry.password !== undefined) return { username: entry.username, password: entry.password, serveraddress };
  return undefined;
}

/** The host[:port] of a config.json `auths` key, which may be a URL (`https://index.docker.io/v1/`) or a bare host. */
function authKeyHost(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .split('/')[0]!
    .toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

async function readDockerConfig(dir: string | undefined): Promise<DockerConfig | undefined> {
  const path = join(dir ?? process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read the Docker config ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as DockerConfig;
  } catch (error) {
    throw new Error(`the Docker config ${path} is not JSON: ${(error as Error).message}`);
  }
}

/**
 * The credential-helper protocol: the server address on stdin, `{"ServerURL","Username","Secret"}` on stdout.
 * A helper that has nothing for this server says "credentials not found": that is anonymous, not a failure.
 */
async function credentialHelperGet(helper: string, serveraddress: string): Promise<RegistryAuth | undefined> {
  const program = `docker-credential-${helper}`;
  const result = await execa(program, ['get'], { input: serveraddress, reject: false, timeout: 30_000 });
  if (result.failed) {
    const output = `${result.stdout}\n${result.stderr}`.trim();
    if (/credentials not found/i.test(output)) return undefined;
    if ((result as { code?: string }).code === 'ENOENT') throw new Error(`the Docker config names the credential helper ${program}, which is not installed`);
    throw new Error(`the credential helper ${program} failed: ${output || result.shortMessage}`);
  }
  let parsed: { Username?: string; Secret?: string };
  try {
    parsed = JSON.parse(result.stdout) as { Username?: string; Secret?: string };
  } catch {
    throw new Error(`the credential helper ${program} did not answer JSON`);
  }
  if (!parsed.Secret) return undefined;
  // `<token>` as the username marks an identity token (the Docker CLI's convention).
  if (parsed.Username === '<token>') return { identitytoken: parsed.Secret, serveraddress };
  return { username: parsed.Username ?? '', password: parsed.Secret, serveraddress };
}
