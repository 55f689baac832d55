// How our runtime finds and loads the handler named by _HANDLER, and how each way of failing reaches the
// Runtime API as an init error (reference/node-runtime.md, "Handler resolution").
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime, stopAllRuntimes, successJson, type RuntimeProcess } from './support/runtime-process.ts';

afterEach(stopAllRuntimes);

/** Starts the runtime on a handler and returns the result of one invoke. */
async function invokeHandler(handler: string, taskRoot: string): Promise<unknown> {
  const runtime = await startRuntime({ handler, taskRoot });
  const init = await runtime.waitForInit();
  if (init.kind !== 'ready') throw new Error(`init failed: ${JSON.stringify(init)}\n${runtime.stdout()}${runtime.stderr()}`);
  return successJson(await runtime.invoke({}));
}

/** Starts the runtime on a handler that must fail to initialise; returns the posted error and the exit. */
async function initFailure(handler: string, taskRoot: string) {
  const runtime: RuntimeProcess = await startRuntime({ handler, taskRoot });
  const init = await runtime.waitForInit();
  if (init.kind !== 'init-error') throw new Error(`expected an init error, got ${JSON.stringify(init)}`);
  const exit = await runtime.exited;
  return { error: init.error, body: JSON.parse(init.body.toString('utf8')), exit, runtime };
}

describe('module candidates', () => {
  it('prefers the extensionless file, then .js, then .mjs, then .cjs', async () => {
    expect(await invokeHandler('precedence.handler', 'resolution')).toBe('extensionless');
    expect(await invokeHandler('js-first.handler', 'resolution')).toBe('js');
    expect(await invokeHandler('mjs-first.handler', 'resolution')).toBe('mjs');
    expect(await invokeHandler('cjs-only.handler', 'resolution')).toBe('cjs');
  });

  it('walks a nested export path inside a module in a subdirectory', async () => {
    const runtime = await startRuntime({ handler: 'src/app.nested.deeper.fn', taskRoot: 'resolution' });
    expect(successJson(await runtime.invoke({ id: 7 }))).toEqual({ nested: true, event: { id: 7 } });
  });

  it('accepts an absolute directory in the handler name', async () => {
    const root = join(import.meta.dirname, 'fixtures', 'handlers', 'resolution');
    expect(await invokeHandler(`${root}/cjs-only.handler`, 'invoke')).toBe('cjs');
  });

  it('finds handlers under an ES module default export', async () => {
    expect(await invokeHandler('default-export.handler', 'resolution')).toBe('from default object');
    expect(await invokeHandler('default-export.group.fn', 'resolution')).toBe('from default nested');
    expect(await invokeHandler('default-function.default', 'resolution')).toBe('default function');
  });
});

describe('module format', () => {
  it('loads .js as an ES module in a "type": "module" package, even beside a folder of the same name', async () => {
    expect(await invokeHandler('app.handler', 'esm-package')).toEqual({ loaded: 'app.js', esm: true });
  });

  it('loads .js as CommonJS below a nested package.json that says so', async () => {
    expect(await invokeHandler('legacy/handler.handler', 'esm-package')).toEqual({ esm: false, dirname: true });
  });

  it('finishes top-level await before asking for the first event', async () => {
    const runtime = await startRuntime({ handler: 'top-level-await.handler', taskRoot: 'esm-package' });
    const init = await runtime.waitForInit();
    expect(init.kind).toBe('ready');
    expect(init.initDurationMs).toBeGreaterThanOrEqual(300);
    const result = successJson(await runtime.invoke({})) as { ready: boolean; waitedMs: number };
    expect(result.ready).toBe(true);
    expect(result.waitedMs).toBeGreaterThanOrEqual(290);
  });
});

describe('packages resolved from the task root', () => {
  let taskRoot: string;

  beforeAll(async () => {
    // Built here rather than kept as a fixture: node_modules folders are not committed.
    taskRoot = await mkdtemp(join(tmpdir(), 'lambkin-runtime-packages-'));
    await writeFile(join(taskRoot, 'package.json'), '{ "type": "module" }');
    const esmPackage = join(taskRoot, 'node_modules', 'greeting-package');
    await mkdir(esmPackage, { recursive: true });
    await writeFile(join(esmPackage, 'package.json'), '{ "name": "greeting-package", "main": "main.js" }');
    await writeFile(join(esmPackage, 'main.js'), "exports.handler = async () => 'from node_modules';\n");
    // No package.json of its own: the lookup stops at node_modules instead of taking the task root's "module".
    const bare = join(taskRoot, 'node_modules', 'bare-package');
    await mkdir(bare, { recursive: true });
    await writeFile(join(bare, 'index.js'), 'exports.handler = async () => ({ commonjs: typeof module === "object" });\n');
  });

  afterAll(async () => {
    await rm(taskRoot, { recursive: true, force: true });
  });

  it('loads a package from node_modules when no file matches', async () => {
    expect(await invokeHandler('greeting-package.handler', taskRoot)).toBe('from node_modules');
  });

  it('stops looking for the package type at the node_modules boundary', async () => {
    expect(await invokeHandler('bare-package.handler', taskRoot)).toEqual({ commonjs: true });
  });
});

describe('init failures', () => {
  it('refuses handler names that climb out of the task root', async () => {
    const { error, exit } = await initFailure('../outside.handler', 'resolution');
    expect(error.errorType).toBe('Runtime.MalformedHandlerName');
    expect(error.errorMessage).toBe("'../outside.handler' is not a valid handler name. Use absolute paths when specifying root directories in handler names.");
    expect(exit.code).not.toBe(0);
  });

  it('refuses a handler name without a dot', async () => {
    const { error, exit } = await initFailure('index', 'resolution');
    expect(error.errorType).toBe('Runtime.MalformedHandlerName');
    expect(error.errorMessage).toContain('Bad handler');
    expect(exit.code).not.toBe(0);
  });

  it('reports a missing module as Runtime.ImportModuleError', async () => {
    const { error, body, exit, runtime } = await initFailure('does-not-exist.handler', 'resolution');
    expect(error.errorType).toBe('Runtime.ImportModuleError');
    expect(error.errorMessage).toMatch(/^Error: Cannot find module 'does-not-exist'\nRequire stack:/);
    expect(body.trace[0]).toBe(`Runtime.ImportModuleError: ${error.errorMessage.split('\n')[0]}`);
    expect(exit.code).not.toBe(0);
    // Also in the function's log, as the line users search for.
    await runtime.waitForOutput(/\t-\tERROR\tInit Error \t\{"errorType":"Runtime\.ImportModuleError"/);
  });

  it('reports a missing dependency of the handler module as Runtime.ImportModuleError', async () => {
    const { error } = await initFailure('missing-dependency.handler', 'resolution');
    expect(error.errorType).toBe('Runtime.ImportModuleError');
    expect(error.errorMessage).toContain("Cannot find module 'a-package-that-does-not-exist'");
  });

  it('reports a syntax error as Runtime.UserCodeSyntaxError', async () => {
    const { error, body } = await initFailure('syntax-error.handler', 'resolution');
    expect(error.errorType).toBe('Runtime.UserCodeSyntaxError');
    expect(error.errorMessage).toMatch(/^SyntaxError: /);
    expect(body.trace.join('\n')).toContain('syntax-error.js');
  });

  it('reports a missing export as Runtime.HandlerNotFound', async () => {
    const { error } = await initFailure('precedence.nope', 'resolution');
    expect(error).toMatchObject({ errorType: 'Runtime.HandlerNotFound', errorMessage: 'precedence.nope is undefined or not exported' });
  });

  it('reports an export that is not a function as Runtime.HandlerNotFound', async () => {
    const { error } = await initFailure('not-a-function.handler', 'resolution');
    expect(error).toMatchObject({ errorType: 'Runtime.HandlerNotFound', errorMessage: 'not-a-function.handler is not a function' });
  });

  it('keeps the name of any other error thrown while loading', async () => {
    const { error, body } = await initFailure('throws-at-load.handler', 'resolution');
    expect(error).toMatchObject({ errorType: 'ConfigurationError', errorMessage: 'DATABASE_URL is not set' });
    expect(body.trace[0]).toBe('ConfigurationError: DATABASE_URL is not set');
  });

  it('reports a rejected top-level await with its own name', async () => {
    const { error } = await initFailure('rejects-at-load.handler', 'esm-package');
    expect(error).toMatchObject({ errorType: 'RangeError', errorMessage: 'port out of range' });
  });
});
