// The host's own log (`lambkin serve`): pino, one JSON line per event on stderr, so stdout keeps only what a user
// or a script reads (the listening line). On a terminal the same lines are printed short and readable instead.
// pino writes through its plain synchronous destination: no transports, no worker threads, so the CLI bundles
// into one file and a line is out before a crash can lose it.
import pino, { type Logger } from 'pino';

export type HostLogger = Logger;

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

export function hostLogger(options: { pretty?: boolean } = {}): HostLogger {
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  const base = { name: 'lambkin serve' };
  if (!pretty) return pino({ base }, pino.destination({ dest: 2, sync: true }));
  return pino({ base }, { write: (line: string) => void process.stderr.write(readable(line)) });
}

/** `06:45:12 INFO  listening url=http://127.0.0.1:9000` from pino's JSON line. */
function readable(line: string): string {
  const { time, level, msg, name: _name, pid: _pid, hostname: _hostname, err, ...fields } = JSON.parse(line) as Record<string, unknown>;
  const clock = new Date(Number(time)).toISOString().slice(11, 19);
  const extra = Object.entries(fields).map(([key, value]) => ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const error = err && typeof err === 'object' ? ` error=${String((err as { message?: unknown }).message)}` : '';
  return `${clock} ${(LEVELS[Number(level)] ?? String(level)).padEnd(5)} ${String(msg ?? '')}${extra.join('')}${error}\n`;
}
