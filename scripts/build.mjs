// Bundles each entry point into one self-contained ES module under dist/, so that the runtime (and later the
// emulator) can be copied into an image as single files, with no node_modules tree beside them.
import { isBuiltin } from 'node:module';
import { build } from 'esbuild';

const entries = [
  { in: 'runtime/index.ts', out: 'dist/runtime/index.mjs' },
  { in: 'src/emulator/index.ts', out: 'dist/emulator/index.mjs' },
];

// CommonJS dependencies (undici) call require() for Node's built-ins; an ES module bundle needs a real one.
const banner =
  "import { createRequire as __lambkinCreateRequire } from 'node:module';\n" +
  'const require = __lambkinCreateRequire(import.meta.url), __lambkinRequire = require;';

// An ES module that `import`s a Node.js built-in pays for the built-in's ESM facade: measured here, importing
// node:http that way adds ~25 ms to a process start, against ~2 ms through require(). Start-up is the runtime's
// and the emulator's whole cold-start budget, so every built-in is loaded through require().
const builtinsViaRequire = {
  name: 'builtins-via-require',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[a-z_:/]+$/ }, (args) =>
      isBuiltin(args.path) ? { path: args.path, namespace: 'builtin' } : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      // The banner's require under another name, so esbuild does not resolve it again (through this plugin).
      contents: `module.exports = __lambkinRequire(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

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
      plugins: [builtinsViaRequire],
    }),
  ),
);
