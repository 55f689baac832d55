// What the tests' recording functions wrote: each invoke appends one JSON line to a file while the test reads it, so
// a read can catch a line half-written. Only whole lines (ending in a newline) are taken; the rest is read next time.
import { readFile } from 'node:fs/promises';

/** The complete JSON lines of `path` (none when it does not exist yet), parsed. */
export async function recordedLines<T>(path: string): Promise<T[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}
