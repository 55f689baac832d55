// `lambkin build [DIR]`: a function directory into a container image on lambkin's base images, through the engine
// (no docker CLI needed). The progress on stdout as it streams: one updating status line on a terminal, the engine's
// plain lines elsewhere (CI logs). The last line names the image. Exit 1 when the build fails, with the engine's
// message on stderr.
import { isBuildRuntime, type BuildRuntime } from '../packaging/function-dockerfile.ts';
import { progressRenderer } from '../packaging/build-progress.ts';
import { parseFlags, runCommand, UsageError } from './flags.ts';

export const BUILD_USAGE = `usage: lambkin build [DIR] [-t TAG] [--runtime nodejs24.x|provided.al2023] [--handler HANDLER]
                    [--label KEY=VALUE ...]

  DIR                 the function's directory, the build context (default .); its .dockerignore is honoured
  -t, --tag TAG       the image's name[:tag] (default: DIR's name, :latest)
  --runtime RUNTIME   for a DIR without a Dockerfile: nodejs24.x (FROM lambkin/nodejs:24) or provided.al2023
                      (FROM lambkin/provided:latest, DIR's executable bootstrap into /var/task). Default:
                      provided.al2023 when DIR has an executable bootstrap and no package.json or .js file,
                      nodejs24.x otherwise
  --handler HANDLER   the image's CMD for a generated Dockerfile (default index.handler for nodejs24.x, none
                      for provided.al2023)
  --label KEY=VALUE   a label on the image (repeatable)

A DIR with its own Dockerfile is built as it is; --runtime and --handler then do not apply. The base images come
from \`npm run images\`.`;

export function main(args: string[]): void {
  runCommand('build', BUILD_USAGE, args, build);
}

async function build(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    { tag: { type: 'string', short: 't' }, runtime: { type: 'string' }, handler: { type: 'string' }, label: { type: 'string', multiple: true } },
    { min: 0, max: 1 },
  );
  const runtime = values.runtime as string | undefined;
  if (runtime !== undefined && !isBuildRuntime(runtime)) {
    throw new UsageError(`--runtime must be nodejs24.x or provided.al2023, not '${runtime}'`);
  }
  const labels: Record<string, string> = {};
  for (const label of (values.label as unknown as string[] | undefined) ?? []) {
    const eq = label.indexOf('=');
    if (eq <= 0) throw new UsageError(`--label must be KEY=VALUE, not '${label}'`);
    labels[label.slice(0, eq)] = label.slice(eq + 1);
  }
  const { buildFunctionImage } = await import('../packaging/image-build.ts');
  const renderer = progressRenderer(process.stdout);
  let built;
  try {
    built = await buildFunctionImage({
      dir: positionals[0] ?? '.',
      tag: values.tag as string | undefined,
      runtime: runtime as BuildRuntime | undefined,
      handler: values.handler as string | undefined,
      labels,
      onProgress: renderer.onProgress,
    });
  } catch (error) {
    renderer.finish(true);
    throw error;
  }
  renderer.finish(false);
  process.stdout.write(`built ${built.tag} (${built.imageId}) in ${(built.durationMs / 1000).toFixed(1)} s\n`);
  return 0;
}
