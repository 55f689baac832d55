// Issue 5's burst: BURST invokes at once against a function with reserved concurrency RESERVED, on a running
// `lambkin serve`. Two measurements:
//   once     every invoke sent once: how many are answered 200 and how many 429 (with which Reason), and when the
//            last answer came. Lambda's rule makes the count exact: RESERVED succeed, BURST − RESERVED throttle.
//   drain    every client retries its 429s (after a jittered 50–150 ms, as a client that does not wait for
//            Retry-After) until it succeeds: the time until all BURST have been served by RESERVED environments,
//            the throttles seen on the way, and the most invokes in flight at once (never above RESERVED).
import { Pool, type Client } from 'undici';
import { makeZip } from '../tools/zip.ts';
import { apiCall, FUNCTIONS, waitUntilReady } from './lambda-http.ts';
import { round } from './stats.mjs';

const FUNCTION = 'bench-reserved';
const ROLE = 'arn:aws:iam::123456789012:role/lambkin-bench';
const WORK_MS = 100;
const HANDLER = `
let inFlight = 0;
exports.handler = async () => {
  inFlight++;
  await new Promise((resolve) => setTimeout(resolve, ${WORK_MS}));
  inFlight--;
  return { ok: true };
};
`;

export interface ReservedBurstFigures {
  invokes: number;
  reserved: number;
  workMs: number;
  once: { succeeded: number; throttled: number; reasons: Record<string, number>; otherFailures: number; lastAnswerMs: number };
  drain: { drainMs: number; throttles: number; maxInFlight: number; environments: number };
}

type Answer = { status: number; reason?: string };

async function invokeOnce(pool: Pool): Promise<Answer> {
  const res = await pool.request({ method: 'POST', path: `${FUNCTIONS}/${FUNCTION}/invocations`, body: '{}' });
  const text = await res.body.text();
  if (res.statusCode === 429) return { status: 429, reason: (JSON.parse(text) as { Reason?: string }).Reason ?? 'none' };
  return { status: res.statusCode };
}

export async function measureReservedBurst(
  client: Client,
  url: string,
  options: { invokes?: number; reserved?: number; memorySizeMb: number },
): Promise<ReservedBurstFigures> {
  const { invokes = 100, reserved = 10, memorySizeMb } = options;
  await apiCall(client, 'POST', FUNCTIONS, {
    FunctionName: FUNCTION,
    Role: ROLE,
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    MemorySize: memorySizeMb,
    Timeout: 60,
    Code: { ZipFile: makeZip([{ name: 'index.js', content: HANDLER }]).toString('base64') },
  });
  await waitUntilReady(client, FUNCTION);
  await apiCall(client, 'PUT', `/2017-10-31/functions/${FUNCTION}/concurrency`, { ReservedConcurrentExecutions: reserved });
  const pool = new Pool(url, { connections: invokes, pipelining: 1 });
  try {
    // Once: from cold, all at once.
    let t0 = performance.now();
    const answers = await Promise.all(Array.from({ length: invokes }, () => invokeOnce(pool)));
    const lastAnswerMs = performance.now() - t0;
    const reasons: Record<string, number> = {};
    for (const answer of answers) if (answer.reason) reasons[answer.reason] = (reasons[answer.reason] ?? 0) + 1;
    const once = {
      succeeded: answers.filter((a) => a.status === 200).length,
      throttled: answers.filter((a) => a.status === 429).length,
      reasons,
      otherFailures: answers.filter((a) => a.status !== 200 && a.status !== 429).length,
      lastAnswerMs: round(lastAnswerMs, 1),
    };

    // Drain: the environments are warm now; every client retries until served.
    let throttles = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    t0 = performance.now();
    await Promise.all(
      Array.from({ length: invokes }, async () => {
        for (;;) {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          const answer = await invokeOnce(pool);
          inFlight--;
          if (answer.status === 200) return;
          if (answer.status !== 429) throw new Error(`drain: invoke answered ${answer.status}`);
          throttles++;
          await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
        }
      }),
    );
    const drainMs = performance.now() - t0;
    const status = (await (await pool.request({ method: 'GET', path: '/lambkin/status' })).body.json()) as {
      functions: { name: string; environments: unknown[] }[];
    };
    const environments = status.functions.find((fn) => fn.name === FUNCTION)?.environments.length ?? 0;
    // maxInFlight counts requests on the wire, admitted or about to be refused: the environments are the cap.
    return { invokes, reserved, workMs: WORK_MS, once, drain: { drainMs: round(drainMs, 1), throttles, maxInFlight, environments } };
  } finally {
    await pool.close();
  }
}
