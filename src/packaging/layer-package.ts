// A layer zip, laid out as Lambda unpacks it under /opt (Node.js looks in /opt/nodejs/node_modules, a custom
// runtime finds its executables on PATH in /opt/bin and its libraries in /opt/lib). How a folder is laid out:
//   - a folder with `nodejs/` at its top, or `bin/`, `lib/` (or python/, java/, ruby/, extensions/) and no
//     package.json (with --runtime provided: whatever package.json says) is already a layer: zipped as it is;
//   - a Node.js package (package.json at its top; --runtime nodejs or no --runtime): its node_modules' contents go
//     to `nodejs/node_modules/` (its dependencies, as npm installed them), and the package's own files (all but
//     node_modules) to `nodejs/node_modules/<name>/` (name from package.json), so that `require('<name>')` finds
//     it from a function, next to its dependencies;
//   - --runtime nodejs without package.json, a folder with node_modules/: its contents to `nodejs/node_modules/`;
//   - --runtime provided: the folder's files under `bin/` (executables a custom runtime runs from PATH).
// The zip itself is written as `lambkin package` writes one (modes kept, sorted, fixed time, limits checked).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SizedItem } from './deployment-limits.ts';
import { collectEntries, layerItems, sortEntries, writeZip, type PackageEntry, type PackageResult } from './zip-package.ts';

export type LayerRuntime = 'nodejs' | 'provided';
/** Top-level folders Lambda gives a meaning to in /opt: a folder holding one of them is already a layer. */
export const LAYER_TOP_FOLDERS = ['nodejs', 'bin', 'lib', 'python', 'java', 'ruby', 'extensions'] as const;

export type LayerLayout = { kind: 'as-is' } | { kind: 'nodejs-package'; name: string } | { kind: 'nodejs-modules' } | { kind: 'bin' };

/** How `dir` will be laid out in the layer, or an Error saying why it cannot tell. */
export async function planLayer(dir: string, runtime?: LayerRuntime): Promise<LayerLayout> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() || e.isFile()).map((e) => e.name);
  } catch {
    throw new Error(`not a folder: ${dir}`);
  }
  const tops = new Set(names);
  if (tops.has('nodejs')) return { kind: 'as-is' };
  // A Node.js package often has a lib/ of its own: package.json decides first (unless the layer is for provided).
  if (tops.has('package.json') && runtime !== 'provided') {
    let name: unknown;
    try {
      name = (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name;
    } catch (error) {
      throw new Error(`cannot read ${join(dir, 'package.json')}: ${(error as Error).message}`);
    }
    if (typeof name !== 'string' || !/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) {
      throw new Error(`package.json in ${dir} has no usable "name" (it names the folder under nodejs/node_modules/)`);
    }
    return { kind: 'nodejs-package', name };
  }
  if (LAYER_TOP_FOLDERS.some((name) => tops.has(name))) return { kind: 'as-is' };
  if (runtime === 'provided') return { kind: 'bin' };
  if (runtime === 'nodejs') {
    if (tops.has('node_modules')) return { kind: 'nodejs-modules' };
    throw new Error(`${dir} has neither package.json nor node_modules/ nor nodejs/: nothing to put under nodejs/node_modules`);
  }
  throw new Error(
    `cannot tell how to lay out ${dir} as a layer: give it a nodejs/ or bin/ (or lib/) folder at its top, ` +
      `a package.json, or say --runtime provided (its files go under bin/)`,
  );
}

/** The layer's entries for a layout. `out` is left out when it is inside `dir`. */
export async function layerEntries(dir: string, layout: LayerLayout, out?: string): Promise<PackageEntry[]> {
  const excludePaths = out === undefined ? [] : [out];
  switch (layout.kind) {
    case 'as-is':
      return collectEntries(dir, { excludePaths });
    case 'bin':
      return collectEntries(dir, { excludePaths, prefix: 'bin/' });
    case 'nodejs-modules':
      return collectEntries(dir, { excludePaths, from: 'node_modules', prefix: 'nodejs/node_modules/' });
    case 'nodejs-package': {
      const own = await collectEntries(dir, { excludePaths, excludeRelative: ['node_modules'], prefix: `nodejs/node_modules/${layout.name}/` });
      const hasModules = await readdir(join(dir, 'node_modules')).then(
        () => true,
        () => false,
      );
      const modules = hasModules ? await collectEntries(dir, { excludePaths, from: 'node_modules', prefix: 'nodejs/node_modules/' }) : [];
      const clash = modules.find(
        (entry) => entry.zipPath.startsWith(`nodejs/node_modules/${layout.name}/`) || entry.zipPath === `nodejs/node_modules/${layout.name}`,
      );
      if (clash) throw new Error(`node_modules already holds ${layout.name} (${clash.zipPath}), where the package's own files go`);
      return sortEntries([...own, ...modules]);
    }
  }
}

export interface PackageLayerOptions {
  dir: string;
  out: string;
  runtime?: LayerRuntime;
  /** Other layers' zips and sizes, counted with this one against the 250 MB (a function uses them together). */
  layers?: string[];
  layerSizes?: number[];
  maxZippedBytes?: number;
  maxUnzippedBytes?: number;
}

export interface LayerResult extends PackageResult {
  layout: LayerLayout;
}

/** `lambkin layer`: the folder as a layer zip, checked against Lambda's limits. */
export async function packageLayer(options: PackageLayerOptions): Promise<LayerResult> {
  const layout = await planLayer(options.dir, options.runtime);
  const entries = await layerEntries(options.dir, layout, options.out);
  const layers: SizedItem[] = await layerItems(options.layers ?? [], options.layerSizes ?? []);
  const result = await writeZip(entries, options.out, { layers, maxZippedBytes: options.maxZippedBytes, maxUnzippedBytes: options.maxUnzippedBytes });
  return { ...result, layout };
}

/** One line for a user: where the folder's files went. */
export function describeLayout(layout: LayerLayout): string {
  switch (layout.kind) {
    case 'as-is':
      return 'zipped as it is (it already has a layer folder at its top)';
    case 'bin':
      return 'files under bin/ (on PATH as /opt/bin)';
    case 'nodejs-modules':
      return 'node_modules under nodejs/node_modules/';
    case 'nodejs-package':
      return `the package under nodejs/node_modules/${layout.name}/, its node_modules under nodejs/node_modules/`;
  }
}
