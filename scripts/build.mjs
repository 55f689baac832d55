// Bundles each entry point into one self-contained ES module under dist/, so that the runtime (and later the
// emulator) can be copied into an image as single files, with no node_modules tree beside them.
import { build } from 'esbuild';

const entries = [
  { in: 'runtime/index.ts', out: 'dist/runtime/index.mjs' },
  { in: 'src/emulator/index.ts', out: 'dist/emulator/index.mjs' },
];

// CommonJS dependencies (undici) call require() for Node's built-ins; an ES module bundle needs a real one.
const banner = "import { createRequire as __lambkinCreateRequire } from 'node:module';\nconst require = __lambkinCreateRequire(import.meta.url);";

await Promise.all(
  entries.map((entry) =>
    build({
      entryPoints: [entry.in],
      outfile: entry.out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      minify: true,
      legalComments: 'none',
      banner: { js: banner },
      logLevel: 'warning',
    }),
  ),
);
