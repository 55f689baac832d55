// `lambkin layer [DIR]`: a folder as a layer zip, laid out as Lambda unpacks it under /opt (see
// src/packaging/layer-package.ts for how a folder is laid out), with `lambkin package`'s checks and guarantees.
import { describeLayout, packageLayer, type LayerRuntime } from '../packaging/layer-package.ts';
import { IGNORE_FILE } from '../packaging/zip-package.ts';
import { parseFlags, runCommand, UsageError } from './flags.ts';
import { exitOneOverLimits } from './over-limit-exit.ts';
import { layerSizeFlags, packageFlagOptions, stringList, summary } from './package.ts';

export const LAYER_USAGE = `usage: lambkin layer [DIR] [-o FILE.zip] [--runtime nodejs|provided] [--layer LAYER.zip ...] [--layer-size BYTES ...] [--json]

  DIR                  the layer's folder (default .); left out: .git folders, the output zip, and what
                       ${IGNORE_FILE} excludes. Laid out as Lambda unpacks it under /opt:
                         - nodejs/ at its top, or bin/ or lib/ (and no package.json): zipped as it is;
                         - a Node.js package (package.json): its node_modules under nodejs/node_modules/, its
                           own files under nodejs/node_modules/<name>/;
                         - --runtime provided: its files under bin/ (on PATH in /opt/bin)
  -o, --output FILE    the zip to write (default layer.zip)
  --runtime R          nodejs or provided: how to lay out a folder that is not a layer yet
  --layer LAYER.zip    another layer used with this one, counted in Lambda's 250 MB (repeatable)
  --layer-size BYTES   the unzipped size of another layer known only by its size (repeatable)
  --json               print the result as JSON

Lambda's limits are checked as for lambkin package: over one, exit 1, the largest files named, no zip written.`;

export const DEFAULT_LAYER_OUTPUT = 'layer.zip';

export function main(args: string[]): void {
  runCommand('layer', LAYER_USAGE, args, (argv) => run(argv));
}

export async function run(args: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { values, positionals } = parseFlags(args, { ...packageFlagOptions(), runtime: { type: 'string' } }, { min: 0, max: 1 });
  const runtime = values.runtime as string | undefined;
  if (runtime !== undefined && runtime !== 'nodejs' && runtime !== 'provided') {
    throw new UsageError(`--runtime must be nodejs or provided, not '${runtime}'`);
  }
  const layerSizes = layerSizeFlags(values['layer-size']);
  return exitOneOverLimits('layer', err, async () => {
    const result = await packageLayer({
      dir: positionals[0] ?? '.',
      out: (values.output as string | undefined) ?? DEFAULT_LAYER_OUTPUT,
      runtime: runtime as LayerRuntime | undefined,
      layers: stringList(values.layer),
      layerSizes,
    });
    out.write(`${values.json ? JSON.stringify(result) : `${summary(result)}\nLayout: ${describeLayout(result.layout)}`}\n`);
    return 0;
  });
}
