// Loads the function's handler (reference/node-runtime.md, "Handler resolution") and turns every way that
// can fail into the Lambda error type users expect: a missing module is Runtime.ImportModuleError, a parse
// failure Runtime.UserCodeSyntaxError, a missing or non-function export Runtime.HandlerNotFound; anything else
// the module throws while loading keeps its own name.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { HANDLER_HIGH_WATER_MARK, HANDLER_STREAMING, STREAM_RESPONSE } from './awslambda-global.ts';
import { RuntimeError } from './errors.ts';
import { parseHandlerName, type HandlerName } from './handler-name.ts';
import { resolveHandlerModule, type ResolvedModule } from './module-resolver.ts';

export type HandlerFunction = (event: unknown, second: unknown, third?: unknown) => unknown;

export interface LoadedHandler {
  readonly fn: HandlerFunction;
  /** Marked with awslambda.streamifyResponse: called as (event, responseStream, context). */
  readonly streaming: boolean;
  /** Declares a third parameter (and is not streaming): gets a Node-style callback. */
  readonly callbackStyle: boolean;
  /** The response stream's buffer size asked for with streamifyResponse(handler, { highWaterMark }). */
  readonly highWaterMark: number | undefined;
}

const requireUserModule = createRequire(import.meta.url);

/** A RuntimeError that keeps the original error's stack under its own first line. */
function wrapLoadError(errorType: string, cause: unknown): RuntimeError {
  const message = String(cause);
  const error = new RuntimeError(errorType, message, { cause });
  const causeStack = (cause as { stack?: unknown } | null)?.stack;
  if (typeof causeStack === 'string') error.stack = `${errorType}: ${message}\n${causeStack}`;
  return error;
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
}

async function importModule(resolved: ResolvedModule): Promise<unknown> {
  if (resolved.format === 'commonjs') {
    try {
      return requireUserModule(resolved.path);
    } catch (error) {
      // Node.js saw an ES module where the file's location said CommonJS (an extensionless file in an ESM
      // package, for instance); one with top-level await can only be imported.
      const code = (error as { code?: unknown } | null)?.code;
      if (code !== 'ERR_REQUIRE_ASYNC_MODULE' && code !== 'ERR_REQUIRE_ESM') throw error;
    }
  }
  // Awaiting the import also awaits the module's top-level await, so init finishes before the first /next.
  return import(pathToFileURL(resolved.path).href);
}

function walk(root: unknown, path: readonly string[]): unknown {
  let target = root;
  for (const key of path) {
    if (target === null || target === undefined) return undefined;
    target = (target as Record<string, unknown>)[key];
  }
  return target;
}

function findExport(moduleExports: unknown, name: HandlerName): HandlerFunction {
  let handler = walk(moduleExports, name.exportPath);
  // An ES module's `export default { handler }`, or CommonJS imported as a namespace.
  if (handler === undefined) handler = walk((moduleExports as { default?: unknown } | null)?.default, name.exportPath);
  if (handler === undefined) {
    throw new RuntimeError('Runtime.HandlerNotFound', `${name.text} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${name.text} is not a function`);
  }
  return handler as HandlerFunction;
}

export async function loadHandler(handlerText: string, taskRoot: string): Promise<LoadedHandler> {
  const name = parseHandlerName(handlerText, taskRoot);
  let moduleExports: unknown;
  try {
    moduleExports = await importModule(resolveHandlerModule(name.directory, name.moduleName));
  } catch (error) {
    if (isModuleNotFound(error)) throw wrapLoadError('Runtime.ImportModuleError', error);
    if (error instanceof SyntaxError) throw wrapLoadError('Runtime.UserCodeSyntaxError', error);
    throw error;
  }
  const fn = findExport(moduleExports, name);
  const marks = fn as unknown as Record<symbol, unknown>;
  const streaming = marks[HANDLER_STREAMING] === STREAM_RESPONSE;
  const highWaterMark = marks[HANDLER_HIGH_WATER_MARK];
  return {
    fn,
    streaming,
    callbackStyle: !streaming && fn.length >= 3,
    highWaterMark: typeof highWaterMark === 'number' ? highWaterMark : undefined,
  };
}
