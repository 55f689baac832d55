// `lambkin package [DIR]`: a function's folder (its code and node_modules) as a deployment zip, the way Lambda
// takes it for CreateFunction / UpdateFunctionCode: modes kept, the same files giving the same bytes (and so the
// same CodeSha256), and checked against Lambda's limits (50 MB zipped, 250 MB unzipped with the layers) before
// the zip is finished; over a limit, Lambda's error, the largest files, exit 1 and no zip left behind.
import { formatBytes } from '../packaging/deployment-limits.ts';
import { IGNORE_FILE, packageFunction, type PackageResult } from '../packaging/zip-package.ts';
import { integerFlag, parseFlags, runCommand } from './flags.ts';
import { exitOneOverLimits } from './over-limit-exit.ts';

export const PACKAGE_USAGE = `usage: lambkin package [DIR] [-o FILE.zip] [--layer LAYER.zip ...] [--layer-size BYTES ...] [--json]

  DIR                  the function's folder, node_modules included (default .); left out: .git folders, the
                       output zip, and what ${IGNORE_FILE} excludes (.dockerignore's syntax)
  -o, --output FILE    the zip to write (default function.zip)
  --layer LAYER.zip    a layer the function will use: its unzipped size counts in Lambda's 250 MB (repeatable)
  --layer-size BYTES   the unzipped size of a layer known only by its size (repeatable)
  --json               print the result as JSON (path, zippedBytes, unzippedBytes, files, sha256)

Lambda's limits are checked: 52428800 bytes (50 MB) zipped for a direct upload, 262144000 bytes (250 MB)
unzipped, layers included. Over one: exit 1, the largest files named, no zip written.`;

export const DEFAULT_PACKAGE_OUTPUT = 'function.zip';

export function main(args: string[]): void {
  runCommand('package', PACKAGE_USAGE, args, (argv) => run(argv));
}

/** The command without process.exit: 0 written, 1 over a limit (the message on `err`); usage errors throw. */
export async function run(args: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { values, positionals } = parseFlags(args, packageFlagOptions(), { min: 0, max: 1 });
  const layerSizes = layerSizeFlags(values['layer-size']);
  return exitOneOverLimits('package', err, async () => {
    const result = await packageFunction({
      dir: positionals[0] ?? '.',
      out: (values.output as string | undefined) ?? DEFAULT_PACKAGE_OUTPUT,
      layers: stringList(values.layer),
      layerSizes,
    });
    out.write(`${values.json ? JSON.stringify(result) : summary(result)}\n`);
    return 0;
  });
}

export function packageFlagOptions() {
  return {
    output: { type: 'string', short: 'o' },
    layer: { type: 'string', multiple: true },
    'layer-size': { type: 'string', multiple: true },
    json: { type: 'boolean' },
  } as const;
}

/** A repeatable string flag's values (parseFlags types them as one value). */
export function stringList(value: unknown): string[] {
  return value === undefined ? [] : Array.isArray(value) ? (value as string[]) : [String(value)];
}

export function layerSizeFlags(value: unknown): number[] {
  return stringList(value).map((size) => integerFlag('layer-size', size, 0, 0, Number.MAX_SAFE_INTEGER));
}

export function summary(result: PackageResult): string {
  const layers = result.totalUnzippedBytes !== result.unzippedBytes ? `, ${formatBytes(result.totalUnzippedBytes)} with the layers` : '';
  return (
    `${result.path}: ${result.files} entries, ${formatBytes(result.zippedBytes)} zipped, ` +
    `${formatBytes(result.unzippedBytes)} unzipped${layers}\nCodeSha256: ${result.sha256}`
  );
}
