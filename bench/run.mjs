// `npm run bench`: our runtime client against AWS's official one (aws-lambda-ric 4.x), through the same
// RuntimeApiServer on loopback, with the same trivial handler (bench/handler/index.mjs), both on Node 24.
//
// Figures, in one run:
//   throughput  sequential invokes per second through the Runtime API loop (invoke → /next → handler →
//               /response → outcome): each process warmed up first, then ROUNDS windows of WINDOW_MS each,
//               the two runtimes' rounds interleaved (who goes first alternates) so machine noise and drift hit
//               both alike; the median round counts.
//   start-up    process spawn → its first GET /next reaching the server (waitForInit()'s `ready`): the median of
//               STARTS fresh processes each, interleaved, after one unmeasured start each.
//   ratios      throughput ours/ric (bar: ≥ 1.0) and start-up ours/ric (bar: ≤ 1.0).
//
// Usage: npm run bench                  a table on stdout
//        npm run -s bench -- --json     one JSON object on stdout, nothing else (progress goes to stderr);
//                                       without -s, npm itself prints its "> lambkin@… bench" banners on stdout
// The first run builds aws-lambda-ric into the cache (test/support/aws-lambda-ric.ts; a minute or two, once);
// after that the bench takes about 20 s. `npm run bench` builds dist/ first (prebench); this file is plain ESM
// and loads runtime-loop.ts through Node 24's type stripping, so it needs the project's Node 24.
import { parseArgs } from 'node:util';

const ROUNDS = 5;
const WINDOW_MS = 1_500;
const WARM_UP_INVOKES = 1_000;
const STARTS = 9;

const { values: flags } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(`bench/run.mjs needs Node 24 (type stripping); this is ${process.version}. Run it as: npm run bench`);
  process.exit(1);
}
const progress = (line) => process.stderr.write(`[bench] ${line}\n`);

const { runtimesUnderTest, startEnvironment, measureStartup, warmUp, measureThroughput } = await import('./runtime-loop.ts');
const { AWS_LAMBDA_RIC_VERSION } = await import('../test/support/aws-lambda-ric.ts');

const runtimes = await runtimesUnderTest();
const order = [runtimes.ours, runtimes.ric];
/** Both runtimes, the first one first on even turns and last on odd ones. */
const turn = (i) => (i % 2 === 0 ? order : [...order].reverse());

progress(`start-up: ${STARTS} starts of each`);
const startups = new Map(order.map((runtime) => [runtime, []]));
// An unmeasured first start of each warms the file cache; then one start of each per turn.
for (const runtime of order) await measureStartup(runtime);
for (let i = 0; i < STARTS; i++) {
  for (const runtime of turn(i)) startups.get(runtime).push(await measureStartup(runtime));
}

progress(`throughput: ${WARM_UP_INVOKES} warm-up invokes each, then ${ROUNDS} rounds of ${WINDOW_MS} ms each`);
const environments = new Map();
const throughputs = new Map(order.map((runtime) => [runtime, []]));
try {
  for (const runtime of order) {
    const environment = await startEnvironment(runtime);
    environments.set(runtime, environment);
    await warmUp(environment, WARM_UP_INVOKES);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const runtime of turn(round)) throughputs.get(runtime).push(await measureThroughput(environments.get(runtime), WINDOW_MS));
  }
} finally {
  await Promise.all([...environments.values()].map((environment) => environment.stop()));
}

const figure = (runtime) => ({
  name: runtime.name,
  invokesPerSecond: round(median(throughputs.get(runtime)), 0),
  invokesPerSecondRounds: throughputs.get(runtime).map((value) => round(value, 0)),
  startupMs: round(median(startups.get(runtime)), 1),
  startupMsSamples: startups.get(runtime).map((value) => round(value, 1)),
});
const ours = figure(runtimes.ours);
const ric = figure(runtimes.ric);
const throughputRatio = round(ours.invokesPerSecond / ric.invokesPerSecond, 3);
const startupRatio = round(ours.startupMs / ric.startupMs, 3);
const report = {
  node: process.version,
  awsLambdaRic: AWS_LAMBDA_RIC_VERSION,
  method: { rounds: ROUNDS, windowMs: WINDOW_MS, warmUpInvokes: WARM_UP_INVOKES, starts: STARTS, statistic: 'median' },
  ours,
  ric,
  ratios: {
    throughputOursOverRic: throughputRatio,
    throughputBar: '>= 1.0',
    throughputMeetsBar: throughputRatio >= 1,
    startupOursOverRic: startupRatio,
    startupBar: '<= 1.0',
    startupMeetsBar: startupRatio <= 1,
  },
};

if (flags.json) {
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  printTable(report);
}

function printTable({ ours, ric, ratios }) {
  const rows = [
    ['', ours.name, ric.name, 'ours/ric', 'bar', ''],
    ['throughput (invokes/s)', ours.invokesPerSecond, ric.invokesPerSecond, ratios.throughputOursOverRic, '≥ 1.0', ratios.throughputMeetsBar ? 'ok' : 'MISSED'],
    ['start-up (ms)', ours.startupMs, ric.startupMs, ratios.startupOursOverRic, '≤ 1.0', ratios.startupMeetsBar ? 'ok' : 'MISSED'],
  ].map((row) => row.map(String));
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  console.log(`Runtime API loop on loopback, trivial handler, Node ${process.version} (median of ${ROUNDS} rounds / ${STARTS} starts)`);
  for (const row of rows) console.log(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('   ').trimEnd());
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function round(value, digits) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
