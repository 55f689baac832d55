// Finds the file a handler's module name refers to and whether Node.js will treat it as CommonJS or as an
// ES module (reference/node-runtime.md, "Handler resolution"). Candidates are checked to be files, not
// just existing paths: an ES module package with both `x.js` and a folder `x/` must load `x.js` (AWS's client
// picks the folder and fails).
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join } from 'node:path';

export type ModuleFormat = 'commonjs' | 'module';

export interface ResolvedModule {
  readonly path: string;
  readonly format: ModuleFormat;
}

// Lambda layers put Node.js packages here; they are searched after the function's own node_modules.
const LAYER_PATHS = ['/opt/nodejs/node_modules', '/opt/nodejs/node24/node_modules'];

// Errors name this file in their require stack, as AWS's name its runtime.
const requireFromRuntime = createRequire(import.meta.url);

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() === true;
}

/**
 * The module type of a `.js` file: that of the nearest package.json above it, stopping at a node_modules
 * folder (a package boundary), as Node.js decides it.
 */
export function packageScopeFormat(file: string): ModuleFormat {
  let directory = dirname(file);
  for (;;) {
    if (basename(directory) === 'node_modules') return 'commonjs';
    let text: string | undefined;
    try {
      text = readFileSync(join(directory, 'package.json'), 'utf8');
    } catch {
      // No package.json here: keep walking up.
    }
    if (text !== undefined) {
      try {
        return (JSON.parse(text) as { type?: unknown }).type === 'module' ? 'module' : 'commonjs';
      } catch {
        // Node.js itself reports a broken package.json when it loads the file.
        return 'commonjs';
      }
    }
    const parent = dirname(directory);
    if (parent === directory) return 'commonjs';
    directory = parent;
  }
}

function formatOf(file: string): ModuleFormat {
  switch (extname(file)) {
    case '.mjs':
      return 'module';
    case '.js':
      return packageScopeFormat(file);
    default:
      // .cjs, .json, .node, and extensionless files are CommonJS.
      return 'commonjs';
  }
}

/**
 * Tries `<module>`, `<module>.js`, `.mjs`, `.cjs` in `directory`, then a package of that name from the
 * directory's node_modules and the layer paths. Throws Node's MODULE_NOT_FOUND error when nothing matches.
 */
export function resolveHandlerModule(directory: string, moduleName: string): ResolvedModule {
  const base = join(directory, moduleName);
  if (isFile(base)) return { path: base, format: 'commonjs' };
  for (const extension of ['.js', '.mjs', '.cjs']) {
    const candidate = base + extension;
    if (isFile(candidate)) return { path: candidate, format: formatOf(candidate) };
  }
  const path = requireFromRuntime.resolve(moduleName, { paths: [directory, ...LAYER_PATHS] });
  return { path, format: formatOf(path) };
}
