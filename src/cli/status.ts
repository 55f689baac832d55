// `lambkin status`: what a running `lambkin serve` holds now (GET /lambkin/status): per function its settings, its
// invokes in flight, its queued asynchronous events and its execution environments, then the event source mappings (what
// each reads, what it runs, how far behind it is), then the account's concurrency and the machine's memory.
// A plain undici request, as `lambkin invoke`.
import { request } from 'undici';
import { STATUS_PATH, type FunctionStatus, type MappingStatus, type ServiceStatus } from '../service/status.ts';

export { STATUS_PATH };
import { parseFlags, runCommand, UsageError } from './flags.ts';
import { DEFAULT_ENDPOINT } from './invoke.ts';

export const STATUS_USAGE = `usage: lambkin status [--endpoint URL] [--json]

  --endpoint URL   the running lambkin serve (default ${DEFAULT_ENDPOINT})
  --json           print the service's status as JSON, as it sent it`;

/** The status is a snapshot of memory: a service that takes longer than this to answer is stuck. */
const STATUS_TIMEOUT_MS = 10_000;

export function main(args: string[]): void {
  runCommand('status', STATUS_USAGE, args, status);
}

async function status(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { endpoint: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0 });
  const endpoint = (values.endpoint as string | undefined) ?? DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(STATUS_PATH, endpoint);
  } catch {
    throw new UsageError(`--endpoint is not a URL: '${endpoint}'`);
  }

  let response;
  try {
    response = await request(url, { method: 'GET', headersTimeout: STATUS_TIMEOUT_MS, bodyTimeout: STATUS_TIMEOUT_MS });
  } catch (error) {
    throw new Error(`cannot reach lambkin at ${endpoint} (${(error as Error).message}): is it running? Start it with \`lambkin serve\``);
  }
  const text = await response.body.text();
  if (response.statusCode !== 200) {
    throw new Error(`${endpoint} answered ${STATUS_PATH} with HTTP ${response.statusCode}: is it lambkin serve (and a version with status)?`);
  }
  let parsed: ServiceStatus;
  try {
    parsed = JSON.parse(text) as ServiceStatus;
  } catch {
    throw new Error(`${endpoint} answered ${STATUS_PATH} with something other than JSON: is it lambkin serve?`);
  }
  if (values.json) {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return 0;
  }
  process.stdout.write(formatStatus(parsed));
  return 0;
}

const FUNCTION_COLUMNS = ['FUNCTION', 'MEMORY', 'RESERVED', 'PROVISIONED', 'IN FLIGHT', 'BUSY', 'IDLE', 'STARTING', 'QUEUED', 'OLDEST'];
const ENVIRONMENT_COLUMNS = ['ID', 'STATE', 'TYPE', 'INVOKES', 'AGE', 'IDLE'];
const MAPPING_COLUMNS = ['MAPPING', 'SOURCE', 'FUNCTION', 'STATE', 'LAG', 'LAST RESULT'];
/** How much of a mapping's UUID is shown: its first group, enough to tell a handful apart (as a short commit hash). */
export const SHORT_UUID_LENGTH = 8;
const INDENT = '    ';
const GAP = '  ';

/**
 * The status as a table: a line per function, the function's environments indented under it (with their own
 * columns, aligned across all functions), and a summary line. Ends with a newline. Pure: no I/O, no clock.
 */
export function formatStatus(status: ServiceStatus): string {
  const totals = status.totals;
  const summary =
    `concurrency: ${totals.concurrentExecutions} in use / ${totals.accountConcurrencyLimit} account limit ` +
    `(${totals.unreservedConcurrencyLimit} unreserved); ` +
    `memory: ${totals.memoryInUseMb} MB in use / ${totals.memoryBudgetMb} MB budget`;
  // A service from before event source mappings sends none.
  const mappings = mappingLines(status.mappings ?? []);
  if (status.functions.length === 0) return `${['no functions', ...mappings, '', summary].join('\n')}\n`;

  const functionRows = status.functions.map(functionRow);
  const environmentRows = status.functions.map((fn) =>
    fn.environments.map((env) => [
      env.id,
      env.state,
      env.provisioned ? 'provisioned' : 'on-demand',
      String(env.invokes),
      duration(env.ageSeconds),
      env.idleSeconds === null ? '-' : duration(env.idleSeconds),
    ]),
  );
  const functionWidths = widths([FUNCTION_COLUMNS, ...functionRows]);
  const environmentWidths = widths([ENVIRONMENT_COLUMNS, ...environmentRows.flat()]);

  const lines = [line(FUNCTION_COLUMNS, functionWidths)];
  status.functions.forEach((_, i) => {
    lines.push(line(functionRows[i]!, functionWidths));
    const envs = environmentRows[i]!;
    if (envs.length === 0) return;
    lines.push(INDENT + line(ENVIRONMENT_COLUMNS, environmentWidths));
    for (const row of envs) lines.push(INDENT + line(row, environmentWidths));
  });
  lines.push(...mappings, '', summary);
  return `${lines.join('\n')}\n`;
}

/** The mappings' table, after a blank line; nothing when there are none. */
function mappingLines(mappings: readonly MappingStatus[]): string[] {
  if (mappings.length === 0) return [];
  const rows = mappings.map((m) => [m.uuid.slice(0, SHORT_UUID_LENGTH), m.source, m.functionName, m.state, String(m.lag), m.lastProcessingResult]);
  const columnWidths = widths([MAPPING_COLUMNS, ...rows]);
  return ['', line(MAPPING_COLUMNS, columnWidths), ...rows.map((row) => line(row, columnWidths))];
}

function functionRow(fn: FunctionStatus): string[] {
  const p = fn.provisionedConcurrency;
  return [
    fn.deleted ? `${fn.name} (deleted)` : fn.provisionedByAliases ? `${fn.name} (${fn.provisionedByAliases.join(', ')})` : fn.name,
    fn.memoryMb === null ? '-' : `${fn.memoryMb} MB`,
    fn.reservedConcurrency === null ? '-' : String(fn.reservedConcurrency),
    p === null ? '-' : `${p.allocated}/${p.requested}`,
    String(fn.inFlight),
    String(fn.environmentCounts.busy),
    String(fn.environmentCounts.idle),
    String(fn.environmentCounts.starting),
    // A service from before asynchronous invokes sends neither field.
    String(fn.queuedEvents ?? 0),
    fn.oldestEventAgeSeconds == null ? '-' : duration(fn.oldestEventAgeSeconds),
  ];
}

function widths(rows: string[][]): number[] {
  const result: number[] = [];
  for (const row of rows) for (const [i, cell] of row.entries()) result[i] = Math.max(result[i] ?? 0, cell.length);
  return result;
}

/** Cells padded to their column's width; the last one is not padded (no trailing spaces). */
function line(cells: string[], columnWidths: number[]): string {
  return cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(columnWidths[i]!))).join(GAP);
}

/** 42s, 5m03s, 2h05m, 3d04h. */
export function duration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad2(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad2(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${pad2(Math.floor(s / 3600) % 24)}h`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
