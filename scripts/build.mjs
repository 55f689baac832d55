// Bundles the runtime client and the emulator into self-contained ES modules under dist/, so that they can be
// copied into an image as a few files, with no node_modules tree beside them:
//   dist/runtime/index.mjs (+ dist/runtime/chunks/: code the runtime loads only when it needs it)
//   dist/emulator/index.mjs
//   dist/cli/lambkin.mjs (+ dist/cli/chunks/: the `lambkin` command, run by bin/lambkin, with source maps)
import { rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { build } from 'esbuild';

// CommonJS dependencies (the CLI's) call require() for Node's built-ins; an ES module bundle needs a real one.
const banner =
  "import { createRequire as __lambkinCreateRequire } from 'node:module';\n" +
  'const require = __lambkinCreateRequire(import.meta.url), __lambkinRequire = require;';

// An ES module that `import`s a Node.js built-in pays for the built-in's ESM facade: measured here, importing
// node:http that way adds ~25 ms to a process start, against ~2 ms through require(). Start-up is the runtime's
// and the emulator's whole cold-start budget, so every built-in is loaded through require().
const builtinsViaRequire = {
  name: 'builtins-via-require',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => (isBuiltin(args.path) ? { path: args.path, namespace: 'builtin' } : undefined));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
      // The banner's require under another name, so esbuild does not resolve it again (through this plugin).
      contents: `module.exports = __lambkinRequire(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  legalComments: 'none',
  banner: { js: banner },
  logLevel: 'warning',
};

// Chunks are named by hash: those of earlier builds would pile up (and be copied into the images) unless cleared.
for (const chunks of ['dist/runtime/chunks', 'dist/cli/chunks']) rmSync(chunks, { recursive: true, force: true });

await Promise.all([
  // Split: what the runtime imports dynamically (streaming support) stays out of the file every cold start parses.
  build({
    ...common,
    entryPoints: { index: 'runtime/index.ts' },
    outdir: 'dist/runtime',
    splitting: true,
    // .mjs, not .js: in an image /var/runtime has no package.json saying "type": "module".
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [builtinsViaRequire],
  }),
  build({ ...common, entryPoints: ['src/emulator/main.ts'], outfile: 'dist/emulator/index.mjs', plugins: [builtinsViaRequire] }),
  // The CLI runs on the host, from the installed package: ssh2 (dockerode's transport for an ssh:// DOCKER_HOST) ships
  // native addons esbuild cannot bundle, so it is loaded from node_modules, as a dependency of dockerode.
  // Not minified, with a source map (bin/lambkin runs it with --enable-source-maps): an error's stack names the
  // src/ files and lines, and Node's excerpt of the failing line is one line, not the whole bundle. Its start-up is
  // not the cold-start budget the runtime's and the emulator's are.
  // Split like the runtime: each command's code (and its map) is loaded only when that command runs, so `lambkin
  // --help` does not parse the whole CLI or its 3 MB of source map.
  build({
    ...common,
    minify: false,
    sourcemap: true,
    // The map names files and lines only: with the sources inside (8.8 MB) Node took 300 ms more to start.
    sourcesContent: false,
    entryPoints: { lambkin: 'src/cli/index.ts' },
    outdir: 'dist/cli',
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    // The IAM policy evaluator reads its action and condition data from its own package's files at run time.
    external: ['ssh2', '@cloud-copilot/*'],
    plugins: [builtinsViaRequire],
  }),
]);
