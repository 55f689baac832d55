// Splits `_HANDLER` into where the module lives and which export to call (reference/node-runtime.md,
// "Handler resolution"): `src/app.nested.fn` is module `app` in directory `src/`, export path `nested.fn`.
import { resolve } from 'node:path';
import { RuntimeError } from './errors.ts';

export interface HandlerName {
  /** The handler string as configured, used in error messages. */
  readonly text: string;
  /** Absolute directory of the module. */
  readonly directory: string;
  /** Module name inside `directory`, without extension. */
  readonly moduleName: string;
  /** Keys to walk from the module's exports to the function. */
  readonly exportPath: readonly string[];
}

export function parseHandlerName(text: string, taskRoot: string): HandlerName {
  // Relative escapes out of the task root are refused, as on AWS; absolute roots are allowed.
  if (text.includes('..')) {
    throw new RuntimeError(
      'Runtime.MalformedHandlerName',
      `'${text}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const slash = text.lastIndexOf('/');
  const base = text.slice(slash + 1);
  const dot = base.indexOf('.');
  if (dot <= 0) {
    throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler '${text}': expected <module>.<export>, for example index.handler or src/app.handler.`);
  }
  return {
    text,
    directory: resolve(taskRoot, text.slice(0, slash + 1)),
    moduleName: base.slice(0, dot),
    exportPath: base.slice(dot + 1).split('.'),
  };
}
