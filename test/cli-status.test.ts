// `lambkin status`: the table formatter on a hand-made status, and the command against a real tiny HTTP server
// (and against a port nothing listens on).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { duration, formatStatus, main, STATUS_PATH, STATUS_USAGE } from '../src/cli/status.ts';
import type { MappingStatus as RunnerMappingStatus } from '../src/delivery/mappings/mapping-runner.ts';
import { buildStatus, type ServiceStatus } from '../src/service/status.ts';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

/** A queue mapping 42 behind and failing, a stream mapping on a version and disabled. */
const RUNNER_MAPPINGS: RunnerMappingStatus[] = [
  {
    uuid: '1a2b3c4d-0000-4000-8000-000000000001',
    functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:hello',
    eventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:orders-queue',
    state: 'Enabled',
    lastProcessingResult: 'PROBLEM: Function call failed',
    polling: true,
    lag: 42,
    polled: 110,
    delivered: 60,
    failed: 10,
  },
  {
    uuid: '9f8e7d6c-0000-4000-8000-000000000002',
    functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders-api:3',
    eventSourceArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/clicks',
    state: 'Disabled',
    lastProcessingResult: 'No records processed',
    polling: false,
    lag: 0,
    polled: 0,
    delivered: 0,
    failed: 0,
  },
];

/**
 * Two functions (one with provisioned concurrency, one deleted while its environment drains) and a quiet one; hello
 * and orders-api have asynchronous events queued, and so has `dropped-soon`, deleted with events still queued.
 */
function handMadeStatus(): ServiceStatus {
  return buildStatus(
    [
      { name: 'hello', memorySize: 128 },
      { name: 'orders-api', memorySize: 1024, reservedConcurrency: 20, provisionedConcurrency: 3 },
      { name: 'quiet', memorySize: 512 },
    ],
    {
      memoryBudgetMb: 8192,
      memoryInUseMb: 3200,
      environments: [
        { id: '0123456789abcdef0123', functionName: 'hello', state: 'busy', provisioned: false, memoryMb: 128, invokes: 7, startedAt: NOW - 125_000 },
        {
          id: 'fedcba9876543210fedc',
          functionName: 'hello',
          state: 'idle',
          provisioned: false,
          memoryMb: 128,
          invokes: 1,
          startedAt: NOW - 9_000,
          lastUsedAt: NOW - 4_000,
        },
        { id: 'aaaaaaaaaaaabbbbbbbb', functionName: 'orders-api', state: 'idle', provisioned: true, memoryMb: 1024, invokes: 1234, startedAt: NOW - 7_500_000 },
        {
          id: 'ccccccccccccdddddddd',
          functionName: 'orders-api',
          state: 'busy',
          provisioned: true,
          memoryMb: 1024,
          invokes: 12,
          startedAt: NOW - 7_400_000,
          lastUsedAt: NOW - 1000,
        },
        { id: 'eeeeeeeeeeeeffffffff', functionName: 'orders-api', state: 'starting', provisioned: false, memoryMb: 1024, invokes: 0, startedAt: NOW - 2_000 },
        { id: '999999999999888888888', functionName: 'gone', state: 'busy', provisioned: false, memoryMb: 256, invokes: 2, startedAt: NOW - 30_000 },
      ],
      provisioned: [{ functionName: 'orders-api', requested: 3, allocated: 2, busy: 1 }],
    },
    {
      accountLimit: 1000,
      unreservedLimit: 980,
      concurrentExecutions: 3,
      functions: { hello: { inFlight: 1 }, 'orders-api': { inFlight: 1, reserved: 20 }, gone: { inFlight: 1 } },
    },
    NOW,
    [
      { functionName: 'dropped-soon', events: 1, oldestReceivedAt: NOW - 500 },
      { functionName: 'hello', events: 3, oldestReceivedAt: NOW - 185_000 },
      { functionName: 'orders-api', events: 1, oldestReceivedAt: NOW - 4_999 },
    ],
    RUNNER_MAPPINGS,
  );
}

describe('buildStatus', () => {
  it('shows every function, deleted ones still holding environments too, with short ids and ages', () => {
    const status = handMadeStatus();
    expect(status.functions.map((fn) => fn.name)).toEqual(['dropped-soon', 'gone', 'hello', 'orders-api', 'quiet']);
    const gone = status.functions[1]!;
    expect(gone).toMatchObject({ deleted: true, memoryMb: 256, inFlight: 1, reservedConcurrency: null, provisionedConcurrency: null });
    const orders = status.functions[3]!;
    expect(orders).toMatchObject({
      deleted: false,
      memoryMb: 1024,
      reservedConcurrency: 20,
      provisionedConcurrency: { requested: 3, allocated: 2, busy: 1 },
      environmentCounts: { starting: 1, idle: 1, busy: 1 },
    });
    expect(orders.environments[0]).toEqual({
      id: 'aaaaaaaaaaaa',
      state: 'idle',
      provisioned: true,
      memoryMb: 1024,
      invokes: 1234,
      ageSeconds: 7500,
      idleSeconds: 7500, // never invoked: idle since it started
    });
    expect(status.functions[2]!.environments.map((env) => env.idleSeconds)).toEqual([null, 4]);
    expect(status.totals).toEqual({
      accountConcurrencyLimit: 1000,
      unreservedConcurrencyLimit: 980,
      concurrentExecutions: 3,
      environments: 6,
      memoryBudgetMb: 8192,
      memoryInUseMb: 3200,
    });
    expect(status.time).toBe('2026-01-01T12:00:00.000Z');
  });

  it("gives each function its queued asynchronous events and the oldest one's age; a deleted function's queued events show it", () => {
    const queue = Object.fromEntries(handMadeStatus().functions.map((fn) => [fn.name, [fn.queuedEvents, fn.oldestEventAgeSeconds, fn.deleted]]));
    expect(queue).toEqual({
      'dropped-soon': [1, 0, true],
      gone: [0, null, true],
      hello: [3, 185, false],
      'orders-api': [1, 4, false],
      quiet: [0, null, false],
    });
  });

  it('lists the event source mappings with their source and function by name, state, lag, last result and counts', () => {
    expect(handMadeStatus().mappings).toEqual([
      {
        uuid: '1a2b3c4d-0000-4000-8000-000000000001',
        source: 'orders-queue',
        eventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:orders-queue',
        functionName: 'hello',
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:hello',
        state: 'Enabled',
        polling: true,
        lag: 42,
        lastProcessingResult: 'PROBLEM: Function call failed',
        polled: 110,
        delivered: 60,
        failed: 10,
      },
      expect.objectContaining({ source: 'clicks', functionName: 'orders-api:3', state: 'Disabled', polling: false, lag: 0 }),
    ]);
    expect(
      buildStatus(
        [],
        { memoryBudgetMb: 1, memoryInUseMb: 0, environments: [], provisioned: [] },
        {
          accountLimit: 1000,
          unreservedLimit: 1000,
          concurrentExecutions: 0,
          functions: {},
        },
      ).mappings,
    ).toEqual([]);
  });
});

describe('formatStatus', () => {
  it('prints a line per function, its environments indented under it, and a summary, in aligned columns', () => {
    const text = formatStatus(handMadeStatus());
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    const header = lines[0]!;
    expect(header).toMatch(/^FUNCTION +MEMORY +RESERVED +PROVISIONED +IN FLIGHT +BUSY +IDLE +STARTING +QUEUED +OLDEST$/);
    expect(text).not.toMatch(/\x1b\[/); // no colour
    expect(text).not.toMatch(/ \n/); // no trailing spaces

    // Every function line's cells start where the header's columns do.
    const columnStarts = ['MEMORY', 'RESERVED', 'PROVISIONED', 'IN FLIGHT', 'BUSY', 'IDLE', 'STARTING', 'QUEUED', 'OLDEST'].map((c) => header.indexOf(c));
    const functionLine = (name: string) => lines.find((line) => line.startsWith(name))!;
    const cellsAt = (line: string) => columnStarts.map((start) => line.slice(start).split(/ {2,}/)[0]);
    expect(cellsAt(functionLine('orders-api'))).toEqual(['1024 MB', '20', '2/3', '1', '1', '1', '1', '1', '4s']);
    expect(cellsAt(functionLine('hello'))).toEqual(['128 MB', '-', '-', '1', '1', '1', '0', '3', '3m05s']);
    expect(cellsAt(functionLine('quiet'))).toEqual(['512 MB', '-', '-', '0', '0', '0', '0', '0', '-']);
    expect(cellsAt(functionLine('dropped-soon (deleted)'))).toEqual(['-', '-', '-', '0', '0', '0', '0', '1', '0s']);
    expect(functionLine('gone (deleted)')).toBeDefined();
    for (const c of columnStarts) expect(functionLine('orders-api')[c - 1]).toBe(' ');

    // Environment lines: indented, under a sub-header, with columns aligned across all functions.
    const envHeader = lines.find((line) => line.trimStart().startsWith('ID'))!;
    expect(envHeader).toMatch(/^ +ID +STATE +TYPE +INVOKES +AGE +IDLE$/);
    const envColumns = ['STATE', 'TYPE', 'INVOKES', 'AGE', 'IDLE'].map((c) => envHeader.indexOf(c));
    const envLine = (id: string) => lines.find((line) => line.trimStart().startsWith(id))!;
    const envCells = (line: string) => envColumns.map((start) => line.slice(start).split(/ {2,}/)[0]);
    expect(envLine('aaaaaaaaaaaa').indexOf('aaaaaaaaaaaa')).toBe(envHeader.indexOf('ID'));
    expect(envCells(envLine('aaaaaaaaaaaa'))).toEqual(['idle', 'provisioned', '1234', '2h05m', '2h05m']);
    expect(envCells(envLine('0123456789ab'))).toEqual(['busy', 'on-demand', '7', '2m05s', '-']);
    expect(envCells(envLine('fedcba987654'))).toEqual(['idle', 'on-demand', '1', '9s', '4s']);
    expect(envCells(envLine('999999999999'))).toEqual(['busy', 'on-demand', '2', '30s', '-']);
    expect(text).not.toContain('0123456789abc'); // ids shortened to 12

    // Environments come under their own function: hello's two between hello's line and orders-api's.
    const at = (line: string) => lines.indexOf(line);
    expect(at(envLine('0123456789ab'))).toBeGreaterThan(at(functionLine('hello')));
    expect(at(envLine('fedcba987654'))).toBeLessThan(at(functionLine('orders-api')));
    // quiet has no environments: no sub-header after it.
    expect(lines[at(functionLine('quiet')) + 1]).toBe('');

    expect(lines.at(-1)).toBe('concurrency: 3 in use / 1000 account limit (980 unreserved); memory: 3200 MB in use / 8192 MB budget');
  });

  it('reads a status from a service without asynchronous invokes (no queue fields) as nothing queued', () => {
    const status = handMadeStatus();
    const older = {
      ...status,
      functions: status.functions.map(({ queuedEvents: _q, oldestEventAgeSeconds: _o, ...rest }) => rest),
    } as unknown as ServiceStatus;
    const helloLine = formatStatus(older)
      .split('\n')
      .find((line) => line.startsWith('hello'))!;
    expect(helloLine).toMatch(/ 0 +-$/); // QUEUED 0, OLDEST -
  });

  it('prints the mappings in a second table under the functions, before the summary: short UUID, source, function, state, lag, last result', () => {
    const lines = formatStatus(handMadeStatus()).trimEnd().split('\n');
    const header = lines.find((line) => line.startsWith('MAPPING'))!;
    expect(header).toMatch(/^MAPPING +SOURCE +FUNCTION +STATE +LAG +LAST RESULT$/);
    const at = lines.indexOf(header);
    expect(lines[at - 1]).toBe('');
    expect(at).toBeGreaterThan(lines.findIndex((line) => line.startsWith('quiet')));
    const columnStarts = ['SOURCE', 'FUNCTION', 'STATE', 'LAG', 'LAST RESULT'].map((c) => header.indexOf(c));
    const cells = (line: string) => [line.split(/ {2,}/)[0], ...columnStarts.map((start) => line.slice(start).split(/ {2,}/)[0])];
    expect(cells(lines[at + 1]!)).toEqual(['1a2b3c4d', 'orders-queue', 'hello', 'Enabled', '42', 'PROBLEM: Function call failed']);
    expect(cells(lines[at + 2]!)).toEqual(['9f8e7d6c', 'clicks', 'orders-api:3', 'Disabled', '0', 'No records processed']);
    expect(lines[at + 3]).toBe('');
    expect(lines.at(-1)).toMatch(/^concurrency: /);
  });

  it('prints no mappings table without mappings, nor for a service from before mappings (no mappings field)', () => {
    const { mappings: _m, ...older } = handMadeStatus();
    for (const status of [{ ...handMadeStatus(), mappings: [] }, older as ServiceStatus]) {
      const text = formatStatus(status);
      expect(text).not.toContain('MAPPING');
      expect(text).toMatch(/\n\nconcurrency: /);
    }
  });

  it('says so when there are no functions', () => {
    const text = formatStatus({ ...handMadeStatus(), functions: [], mappings: [] });
    expect(text).toMatch(/^no functions\n\nconcurrency: 3 in use/);
    // Mappings still show (their function may be gone): under the line that says so.
    expect(formatStatus({ ...handMadeStatus(), functions: [] })).toMatch(/^no functions\n\nMAPPING .*\n1a2b3c4d .*\n9f8e7d6c .*\n\nconcurrency: 3 in use/);
  });

  it('formats durations', () => {
    expect([0, 59, 60, 303, 3599, 3600, 7500, 86_399, 86_400 + 4 * 3600].map(duration)).toEqual([
      '0s',
      '59s',
      '1m00s',
      '5m03s',
      '59m59s',
      '1h00m',
      '2h05m',
      '23h59m',
      '1d04h',
    ]);
  });
});

describe('lambkin status', () => {
  let server: Server | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
    if (server) await new Promise((done) => server!.close(done));
    server = undefined;
  });

  /** Runs main with stdout, stderr and process.exit captured, until it exits or sets an exit code. */
  async function run(args: string[]): Promise<{ stdout: string; stderr: string; exit: number | undefined }> {
    let stdout = '';
    let stderr = '';
    let exit: number | undefined;
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    // A real exit ends the process; this one returns, so only the first call counts (runCommand's code goes on).
    vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      exit ??= code ?? 0;
    }) as never);
    process.exitCode = undefined;
    main(args);
    await vi.waitFor(
      () => {
        if (exit === undefined && process.exitCode === undefined) throw new Error('still running');
      },
      { timeout: 10_000 },
    );
    vi.restoreAllMocks();
    return { stdout, stderr, exit: exit ?? Number(process.exitCode) };
  }

  async function serve(body: string, statusCode = 200): Promise<{ endpoint: string; paths: string[] }> {
    const paths: string[] = [];
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(statusCode, { 'Content-Type': 'application/json' }).end(body);
    });
    await new Promise<void>((listening) => server!.listen(0, '127.0.0.1', listening));
    return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
  }

  it('fetches the status from the endpoint and prints the table', async () => {
    const status = handMadeStatus();
    const { endpoint, paths } = await serve(JSON.stringify(status));
    const result = await run(['--endpoint', endpoint]);
    expect(result.exit).toBe(0);
    expect(paths).toEqual([STATUS_PATH]);
    expect(result.stdout).toBe(formatStatus(status));
    expect(result.stderr).toBe('');
  });

  it('prints the JSON as sent with --json', async () => {
    const body = JSON.stringify(handMadeStatus());
    const { endpoint } = await serve(body);
    const result = await run(['--json', '--endpoint', endpoint]);
    expect(result.exit).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(handMadeStatus());
    expect(result.stdout).toBe(`${body}\n`);
  });

  it('names the endpoint and suggests lambkin serve when nothing listens there, exit 1', async () => {
    const { endpoint } = await serve('{}');
    await new Promise((done) => server!.close(done)); // the port was ours a moment ago: now nothing listens
    server = undefined;
    const result = await run(['--endpoint', endpoint]);
    expect(result.exit).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`lambkin status: cannot reach lambkin at ${endpoint}`);
    expect(result.stderr).toContain('lambkin serve');
  });

  it('says what answered when the endpoint is not a lambkin with status, exit 1', async () => {
    const { endpoint } = await serve('{"message":"nope"}', 404);
    const result = await run(['--endpoint', endpoint]);
    expect(result.exit).toBe(1);
    expect(result.stderr).toContain(`${endpoint} answered ${STATUS_PATH} with HTTP 404`);
  });

  it('refuses arguments it does not take, exit 2 with the usage', async () => {
    const result = await run(['extra']);
    expect(result.exit).toBe(2);
    expect(result.stderr).toContain("lambkin status: Unexpected argument 'extra'");
    expect(result.stderr).toContain(`\n\n${STATUS_USAGE}\n`);
  });
});
