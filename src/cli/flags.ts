// Flag parsing shared by the commands: node:util parseArgs, with a bad flag turned into one clear line and exit
// code 2 (the shell's "usage" code), instead of parseArgs' stack trace.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** Where `lambkin serve` keeps functions, code and logs, and where `lambkin logs` looks: relative to the cwd. */
export const DEFAULT_DATA_DIR = '.lambkin';

/** A command line the command cannot run: the message says what is wrong, the usage says what is right. */
export class UsageError extends Error {}

export interface ParsedFlags {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseFlags(args: string[], options: ParseArgsOptionsConfig, positionals: { min: number; max: number }): ParsedFlags {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: positionals.max > 0, strict: true });
  } catch (error) {
    // parseArgs' messages are already clear ("Unknown option '--prot'"); only the error code is dropped.
    throw new UsageError((error as Error).message);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min) throw new UsageError('missing argument');
  if (count > positionals.max) throw new UsageError(`unexpected argument '${parsed.positionals[positionals.max]}'`);
  return { values: parsed.values as ParsedFlags['values'], positionals: parsed.positionals };
}

/** A whole number within [min, max], or a UsageError naming the flag. */
export function integerFlag(name: string, value: string | boolean | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || number < min || number > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${String(value)}'`);
  }
  return number;
}

/**
 * Runs a command's main; a UsageError prints `lambkin <command>: <message>` and the usage, and exits 2; any other
 * failure prints its message and exits 1 at once (a half-started command may hold handles that would keep it up).
 */
export function runCommand(command: string, usage: string, args: string[], main: (args: string[]) => Promise<unknown>): void {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  // Through a promise, so that a flag error thrown before main's first await is handled the same way.
  Promise.resolve(args)
    .then(main)
    .then(
      (code) => {
        if (typeof code === 'number') process.exitCode = code; // a main that returns nothing leaves it
      },
      (error: unknown) => {
        if (error instanceof UsageError) {
          process.stderr.write(`lambkin ${command}: ${error.message}\n\n${usage}\n`);
          process.exit(2);
        }
        process.stderr.write(`lambkin ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
}
