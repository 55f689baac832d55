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
//   ratios      throughput ours/ric (bar: ≥ 1.0) and start-up ours/ric (bar: ≤ 1.0). The handler logs one line per
//               invoke, and each runtime gets a telemetry log pipe as fd 3 (_LAMBDA_TELEMETRY_LOG_FD), as on Lambda:
//               the figures include writing that line as a frame, and the records read back are counted.
//   concurrency one environment per runtime under AWS_LAMBDA_MAX_CONCURRENCY=4 (Lambda Managed Instances), the
//               server handing it up to 4 invokes at once and 4 always outstanding: invokes per second beside
//               the sequential figure (no bar; each runtime's default worker threads).
//   emulator    warm invoke latency p50/p99 through the emulator in a running container (bar: p50 < 2 ms), and
//               cold start, `docker run` to first answer, against a bare `docker run` of the same image running
//               `node -e 0` (bar: ratio ≤ 1.3); see emulator.ts. Needs Docker and `npm run images`.
//   serve       `lambkin serve --image lambkin-example/nodejs` as a child process, over keep-alive HTTP on the
//               Invoke API: warm p50/p99 (bar: p50 within 1 ms of the emulator's warm p50 above), cold start
//               against a bare `docker run` (bar: ratio ≤ 1.2), warm throughput with 1, 2 and 4 environments, and
//               50 invokes at once to a cold function (bar: all succeed), and 100 at once against reserved
//               concurrency 10 (bar: exactly 90 throttled) then drained, and warm p50 through an alias against
//               $LATEST in the same run (bar: the alias adds at most 0.05 ms); see serve.ts. About 45 s.
//   async       Event invokes through the same `lambkin serve`: 10,000 accepted by 32 clients at once (bar: ≥ 2,000
//               events/s; p50/p99 of the 202), the worker's delivery rate once the accepts are over against 16 sync
//               clients on the same function (bar: ≥ 0.8×), and 500 events of a 20 ms function with the serve
//               killed (SIGKILL) mid-delivery and restarted on its data dir (bar: 0 accepted events never
//               delivered; duplicates counted); see async.ts. About a minute (more on a loaded machine).
//   mappings    event source mappings created through the Lambda API on one `lambkin serve`, reading a real SQS (npm
//               fauxqs) and a real Kinesis (npm kinesis-local): 10,000 messages drained by an SQS mapping (BatchSize
//               10) and 10,000 records by a Kinesis mapping (2 shards, BatchSize 100, TRIM_HORIZON) into a trivial zip
//               function, per second from CreateEventSourceMapping to the last one delivered, beside the same
//               function's sync invokes of one message, sequential and from as many clients as the SQS poller had
//               batches in flight (bars: SQS drain ≥ 5× the sequential sync rate; 0 messages or records lost, counted
//               in the function's own log); see mappings.ts. About a minute on an idle machine.
//   urls        function URLs on one `lambkin serve`: requests per second through a BUFFERED URL (by Host) beside Invoke
//               API requests to the same trivial zip function, from 1 and 4 keep-alive clients, interleaved windows
//               (bar: URL ≥ 0.9× Invoke at each), and a RESPONSE_STREAM URL's first body byte at the client against the
//               function's Date.now() just before its first write, median of 30 (bar: ≤ 5 ms); see urls.ts. About 30 s.
//   auth        `lambkin serve --auth sigv4` (a keys file) beside a `lambkin serve` without --auth, the same trivial zip
//               function on each, every request signed with the SDK's signer (@smithy/signature-v4) before its clock
//               starts: warm invoke p50 of each over interleaved batches, the median difference of 5 rounds with
//               fresh serves (bar: verification adds ≤ 0.1 ms); see auth.ts. About 2 minutes.
//   build       `lambkin build` of a function image on our cached base against a plain `docker build` of the same
//               Dockerfile and context, interleaved (bar: ratio ≤ 1.1), and what our layers add to the base
//               images; see build.ts. About 5 s.
//   trace       keep-alive policies replayed on a synthetic Azure-like day (bar: the hybrid policy has fewer cold
//               starts than a fixed 10-minute keep-alive at no more memory-time); see trace-study.ts. A second.
//
// Usage: npm run bench                  a table on stdout
//        npm run -s bench -- --json     one JSON object on stdout, nothing else (progress goes to stderr);
//                                       without -s, npm itself prints its "> lambkin@… bench" banners on stdout
// The first run builds aws-lambda-ric into the cache (tools/aws-lambda-ric.ts; a minute or two, once);
// after that the bench takes about a minute (20 s of it before the serve section). `npm run bench` builds dist/
// first (prebench); this file is plain ESM and loads runtime-loop.ts, emulator.ts and serve.ts through Node 24's
// type stripping, so it needs the project's Node 24.
import { parseArgs } from 'node:util';
import { median, round } from './stats.mjs';

const ROUNDS = 5;
const WINDOW_MS = 1_500;
const WARM_UP_INVOKES = 1_000;
const STARTS = 15;
/** Invokes at once for the multi-concurrency figure (AWS_LAMBDA_MAX_CONCURRENCY, Lambda Managed Instances). */
const CONCURRENCY = 4;

const { values: flags } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(`bench/run.mjs needs Node 24 (type stripping); this is ${process.version}. Run it as: npm run bench`);
  process.exit(1);
}
const progress = (line) => process.stderr.write(`[bench] ${line}\n`);

const { runtimesUnderTest, startEnvironment, measureStartup, warmUp, measureThroughput, measureConcurrentThroughput } = await import('./runtime-loop.ts');
const { AWS_LAMBDA_RIC_VERSION } = await import('../tools/aws-lambda-ric.ts');

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
// Every invoke logged one line through the telemetry pipe: a runtime that wrote none did not use it.
const telemetryRecords = new Map([...environments].map(([runtime, environment]) => [runtime, environment.telemetryRecords()]));

progress(`concurrency ${CONCURRENCY}: one environment each under AWS_LAMBDA_MAX_CONCURRENCY=${CONCURRENCY}, ${ROUNDS} rounds of ${WINDOW_MS} ms`);
const concurrentEnvironments = new Map();
const concurrentThroughputs = new Map(order.map((runtime) => [runtime, []]));
try {
  for (const runtime of order) {
    const environment = await startEnvironment(runtime, { maxConcurrency: CONCURRENCY });
    concurrentEnvironments.set(runtime, environment);
    await measureConcurrentThroughput(environment, WINDOW_MS, CONCURRENCY);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const runtime of turn(round)) {
      concurrentThroughputs.get(runtime).push(await measureConcurrentThroughput(concurrentEnvironments.get(runtime), WINDOW_MS, CONCURRENCY));
    }
  }
} finally {
  await Promise.all([...concurrentEnvironments.values()].map((environment) => environment.stop()));
}

const figure = (runtime) => ({
  name: runtime.name,
  invokesPerSecond: round(median(throughputs.get(runtime)), 0),
  invokesPerSecondRounds: throughputs.get(runtime).map((value) => round(value, 0)),
  startupMs: round(median(startups.get(runtime)), 1),
  startupMsSamples: startups.get(runtime).map((value) => round(value, 1)),
  telemetryRecords: telemetryRecords.get(runtime),
  concurrency: CONCURRENCY,
  concurrentInvokesPerSecond: round(median(concurrentThroughputs.get(runtime)), 0),
  concurrentInvokesPerSecondRounds: concurrentThroughputs.get(runtime).map((value) => round(value, 0)),
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
    concurrentThroughputOursOverRic: round(ours.concurrentInvokesPerSecond / ric.concurrentInvokesPerSecond, 3),
  },
};

// The emulator in a running container: needs a Docker engine and the images (`npm run images`).
const { measureEmulator, EMULATOR_BENCH_IMAGE } = await import('./emulator.ts');
const emulator = await measureEmulator({ image: EMULATOR_BENCH_IMAGE, log: progress });
report.emulator = {
  ...emulator,
  bars: {
    warmP50Ms: '< 2',
    warmMeetsBar: emulator.warm.p50Ms < 2,
    coldStartRatio: '<= 1.3',
    coldStartMeetsBar: emulator.coldStart.ratio <= 1.3,
  },
};

// `lambkin serve` as a user runs it, against the same image; its warm p50 is judged against the emulator's above.
const { measureServe } = await import('./serve.ts');
const serve = await measureServe({ image: EMULATOR_BENCH_IMAGE, log: progress });
const warmP50OverEmulatorMs = round(serve.warm.p50Ms - emulator.warm.p50Ms, 2);
report.serve = {
  ...serve,
  warmP50OverEmulatorMs,
  bars: {
    warmP50OverEmulatorMs: '<= 1',
    warmMeetsBar: warmP50OverEmulatorMs <= 1,
    coldStartRatio: '<= 1.2',
    coldStartMeetsBar: serve.coldStart.ratio <= 1.2,
    burst: 'all succeed',
    burstMeetsBar: serve.burst.succeeded === serve.burst.invokes,
    leftContainers: '0',
    leftContainersMeetsBar: serve.leftContainers === 0,
    aliasAddedMs: '<= 0.05',
    aliasMeetsBar: serve.alias.addedMs <= 0.05,
    reservedBurstThrottles: 'exactly invokes − reserved, all ReservedFunctionConcurrentInvocationLimitExceeded',
    reservedBurstMeetsBar:
      serve.reservedBurst.once.throttled === serve.reservedBurst.invokes - serve.reservedBurst.reserved &&
      serve.reservedBurst.once.reasons.ReservedFunctionConcurrentInvocationLimitExceeded === serve.reservedBurst.once.throttled &&
      serve.reservedBurst.once.otherFailures === 0,
  },
};

// Asynchronous invokes through `lambkin serve`: accepts, delivery against sync, a kill -9 mid-delivery; see async.ts.
const { measureAsync } = await import('./async.ts');
const asyncInvokes = await measureAsync({ image: EMULATOR_BENCH_IMAGE, log: progress });
report.async = {
  ...asyncInvokes,
  bars: {
    acceptEventsPerSecond: '>= 2000',
    acceptMeetsBar: asyncInvokes.accept.eventsPerSecond >= 2000,
    deliveryOverSync: '>= 0.8',
    deliveryMeetsBar: asyncInvokes.delivery.ratio >= 0.8,
    lost: '0',
    lostMeetsBar: asyncInvokes.kill.lost === 0,
    leftContainers: '0',
    leftContainersMeetsBar: asyncInvokes.leftContainers === 0,
  },
};

// Event source mappings (SQS, Kinesis) through `lambkin serve`, against sync invokes of the same function; see mappings.ts.
const { measureMappings } = await import('./mappings.ts');
const mappings = await measureMappings({ log: progress });
report.mappings = {
  ...mappings,
  bars: {
    sqsOverSequentialSync: '>= 5',
    sqsMeetsBar: mappings.sqsOverSequential >= 5,
    lost: '0',
    lostMeetsBar: mappings.sqs.lost === 0 && mappings.kinesis.lost === 0,
    leftContainers: '0',
    leftContainersMeetsBar: mappings.leftContainers === 0,
  },
};

// Function URLs through `lambkin serve`: throughput beside the Invoke API, the first streamed byte; see urls.ts.
const { measureUrls } = await import('./urls.ts');
const urls = await measureUrls({ log: progress });
report.urls = {
  ...urls,
  bars: {
    urlOverInvoke: '>= 0.9 at every client count',
    throughputMeetsBar: urls.throughput.every((t) => t.ratio >= 0.9),
    firstByteP50Ms: '<= 5',
    firstByteMeetsBar: urls.firstByte.p50Ms <= 5,
    leftContainers: '0',
    leftContainersMeetsBar: urls.leftContainers === 0,
  },
};

// `lambkin serve --auth sigv4` against `lambkin serve` without it: what verifying and authorising adds; see auth.ts.
const { measureAuth } = await import('./auth.ts');
const auth = await measureAuth({ log: progress });
report.auth = {
  ...auth,
  bars: {
    addedMs: '<= 0.1',
    addedMeetsBar: auth.addedMs <= 0.1,
    leftContainers: '0',
    leftContainersMeetsBar: auth.leftContainers === 0,
  },
};

// `lambkin build` against a plain `docker build` of the same Dockerfile and context; see build.ts.
const { measureBuild } = await import('./build.ts');
const build = await measureBuild({ builds: 7, log: progress });
report.build = { ...build, bars: { ratio: '<= 1.1', ratioMeetsBar: build.ratio <= 1.1 } };

// Keep-alive policies replayed on a synthetic Azure-like day, no Docker, about a second; see trace-study.ts.
const { traceStudy, printTraceStudy } = await import('./trace-study.ts');
report.traceStudy = await traceStudy();

if (flags.json) {
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  printTable(report);
  printEmulatorTable(report.emulator);
  printServeTable(report.serve, report.emulator);
  printAsyncTable(report.async);
  printMappingsTable(report.mappings);
  printUrlsTable(report.urls);
  printAuthTable(report.auth);
  printBuildTable(report.build);
  printTraceStudy(report.traceStudy);
}

function printServeTable(
  { image, memorySizeMb, warm, warmP50OverEmulatorMs, alias, coldStart, throughput, burst, reservedBurst, leftContainers, bars },
  emulator,
) {
  const verdict = (ok) => (ok ? 'ok' : 'MISSED');
  console.log('');
  console.log(`lambkin serve (--image ${image}, MemorySize ${memorySizeMb} MB), Invoke API over keep-alive HTTP from the host`);
  console.log(
    `  warm invoke latency  p50 ${warm.p50Ms} ms, p99 ${warm.p99Ms} ms over ${warm.invokes} invokes; emulator p50 ${emulator.warm.p50Ms} ms,` +
      ` difference ${warmP50OverEmulatorMs} ms   bar: ≤ 1 ms   ${verdict(bars.warmMeetsBar)}`,
  );
  console.log(
    `  through an alias     p50 ${alias.aliasP50Ms} ms vs $LATEST ${alias.latestP50Ms} ms over ${alias.invokes} each, interleaved:` +
      ` the alias adds ${alias.addedMs} ms   bar: ≤ 0.05 ms   ${verdict(bars.aliasMeetsBar)}`,
  );
  console.log(
    `  cold start           invoke with no environment → answer ${coldStart.oursMs} ms vs bare docker run (node -e 0) ${coldStart.bareDockerRunMs} ms` +
      ` = ${coldStart.ratio}   bar: ≤ 1.2   ${verdict(bars.coldStartMeetsBar)}   (median of ${coldStart.starts})`,
  );
  console.log(
    `  warm throughput      ${throughput.map((t) => `${t.environments} env: ${t.invokesPerSecond}/s`).join(', ')}` +
      `   (${throughput[0].windowMs} ms windows; containers ${throughput.map((t) => t.containers).join('/')})`,
  );
  console.log(
    `  cold burst           ${burst.invokes} at once: ${burst.succeeded} ok, ${burst.failed} failed, last answer after ${burst.lastAnswerMs} ms,` +
      ` ${burst.environments} environments (at most ${burst.maxContainers} containers)   bar: all succeed   ${verdict(bars.burstMeetsBar)}`,
  );
  const { once, drain } = reservedBurst;
  console.log(
    `  reserved burst       ${reservedBurst.invokes} at once, reserved concurrency ${reservedBurst.reserved}, ${reservedBurst.workMs} ms handler:` +
      ` ${once.succeeded} ok, ${once.throttled} throttled (${Object.entries(once.reasons)
        .map(([reason, n]) => `${n} ${reason}`)
        .join(', ')}),` +
      ` last answer after ${once.lastAnswerMs} ms   bar: exactly ${reservedBurst.invokes - reservedBurst.reserved} throttled   ${verdict(bars.reservedBurstMeetsBar)}`,
  );
  console.log(
    `                       drained with retrying clients in ${drain.drainMs} ms (${drain.throttles} throttles on the way, ${drain.environments} environments)`,
  );
  console.log(`  after SIGTERM        ${leftContainers} containers left   ${verdict(bars.leftContainersMeetsBar)}`);
}

function printAsyncTable({ image, accept, delivery, kill, leftContainers, bars }) {
  const verdict = (ok) => (ok ? 'ok' : 'MISSED');
  console.log('');
  console.log(`lambkin serve (--image ${image}), asynchronous (Event) invokes, each committed to async-events.db before its 202`);
  console.log(
    `  accept               ${accept.invokes} events, ${accept.connections} at once: ${accept.eventsPerSecond} events/s,` +
      ` 202 after p50 ${accept.p50Ms} ms, p99 ${accept.p99Ms} ms   bar: ≥ 2,000 events/s   ${verdict(bars.acceptMeetsBar)}`,
  );
  console.log(
    `  delivery             ${delivery.eventsPerSecond} events/s (${delivery.queuedAtAcceptEnd - delivery.queuedAtEnd} of ${delivery.queuedAtAcceptEnd}` +
      ` queued after the last 202, in ${delivery.drainMs} ms) vs ${delivery.syncClients} sync clients ${delivery.syncInvokesPerSecond}/s` +
      ` = ${delivery.ratio}   bar: ≥ 0.8   ${verdict(bars.deliveryMeetsBar)}`,
  );
  console.log(
    `  kill -9              ${kill.accepted} accepted, SIGKILL after ${kill.deliveredBeforeKill} delivered, restarted: ${kill.delivered} delivered` +
      ` (${kill.duplicates} duplicates) within ${kill.recoveryMs} ms, ${kill.lost} lost   bar: 0 lost   ${verdict(bars.lostMeetsBar)}`,
  );
  console.log(`  after SIGTERM        ${leftContainers} containers left   ${verdict(bars.leftContainersMeetsBar)}`);
}

function printMappingsTable({ memorySizeMb, sqs, kinesis, sync, sqsOverSequential, sqsOverConcurrent, leftContainers, bars }) {
  const verdict = (ok) => (ok ? 'ok' : 'MISSED');
  const delivered = ({ sent, delivered, lost, duplicates }) => `${delivered} of ${sent} delivered (${duplicates} duplicates), ${lost} lost`;
  console.log('');
  console.log(`lambkin serve, event source mappings into a zip function (nodejs24.x, MemorySize ${memorySizeMb} MB) answering {batchItemFailures: []}`);
  console.log(
    `  SQS (fauxqs)         ${sqs.sent} messages, BatchSize ${sqs.batchSize}: ${sqs.perSecond} messages/s (${sqs.drainMs} ms from CreateEventSourceMapping` +
      ` to an empty queue, at most ${sqs.maxInFlight} batches in flight); ${delivered(sqs)}`,
  );
  console.log(
    `  Kinesis (local)      ${kinesis.sent} records, ${kinesis.shards} shards, BatchSize ${kinesis.batchSize}, TRIM_HORIZON: ${kinesis.perSecond} records/s` +
      ` (${kinesis.drainMs} ms to the last record in the function's log); ${delivered(kinesis)}`,
  );
  console.log(
    `  sync, one message    sequential ${sync.sequentialPerSecond}/s, ${sync.clients} clients ${sync.concurrentPerSecond}/s (${sync.windowMs} ms windows, warm)`,
  );
  console.log(
    `  SQS drain / sync     ${sqsOverSequential}× sequential, ${sqsOverConcurrent}× at ${sync.clients} clients   bar: ≥ 5× sequential   ${verdict(bars.sqsMeetsBar)}`,
  );
  const cpu = ({ serveMs, machineMs, machineBusyShare }) => `serve ${serveMs} ms, machine ${machineMs} ms (CPUs ${Math.round(machineBusyShare * 100)}% busy)`;
  console.log(`  CPU per batch of ${sqs.batchSize}    ${cpu(sqs.cpu)}; per sequential sync invoke: ${cpu(sync.sequentialCpu)}`);
  console.log(`  lost                 SQS ${sqs.lost}, Kinesis ${kinesis.lost}   bar: 0   ${verdict(bars.lostMeetsBar)}`);
  console.log(`  after SIGTERM        ${leftContainers} containers left   ${verdict(bars.leftContainersMeetsBar)}`);
}

function printUrlsTable({ memorySizeMb, windowMs, rounds, throughput, firstByte, leftContainers, bars }) {
  const verdict = (ok) => (ok ? 'ok' : 'MISSED');
  console.log('');
  console.log(`lambkin serve, function URLs (AuthType NONE, by Host) on zip functions (nodejs24.x, MemorySize ${memorySizeMb} MB)`);
  for (const t of throughput) {
    console.log(
      `  ${`${t.clients} client${t.clients === 1 ? '' : 's'}`.padEnd(20)} URL ${t.urlPerSecond}/s vs Invoke API ${t.invokePerSecond}/s = ${t.ratio}` +
        `   bar: ≥ 0.9   ${verdict(t.ratio >= 0.9)}   (median of ${rounds} interleaved ${windowMs} ms windows, BUFFERED, {statusCode: 200, body: 'ok'})`,
    );
  }
  console.log(
    `  first streamed byte  ${firstByte.p50Ms} ms after the function's first write (median of ${firstByte.requests}, max ${firstByte.maxMs} ms;` +
      ` whole answer ${firstByte.wholeAnswerP50Ms} ms with a ${firstByte.holdMs} ms hold)   bar: ≤ 5 ms   ${verdict(bars.firstByteMeetsBar)}`,
  );
  console.log(`  after SIGTERM        ${leftContainers} containers left   ${verdict(bars.leftContainersMeetsBar)}`);
}

function printAuthTable({ memorySizeMb, invokes, signedP50Ms, openP50Ms, addedMs, addedCpuMs, rounds, leftContainers, bars }) {
  const verdict = (ok) => (ok ? 'ok' : 'MISSED');
  console.log('');
  console.log(`lambkin serve --auth sigv4 against lambkin serve without --auth, a zip function (nodejs24.x, MemorySize ${memorySizeMb} MB) on each`);
  console.log(
    `  warm invoke p50      signed, --auth sigv4 ${signedP50Ms} ms vs without --auth ${openP50Ms} ms over ${invokes} each, interleaved,` +
      ` median of ${rounds.length} rounds (${rounds.map((r) => `+${r.addedMs}`).join(', ')}):` +
      ` verification adds ${addedMs} ms   bar: ≤ 0.1 ms   ${verdict(bars.addedMeetsBar)}`,
  );
  console.log(
    `  serve's CPU/invoke   signed ${rounds.map((r) => r.signedCpuMs).join(', ')} ms vs open ${rounds.map((r) => r.openCpuMs).join(', ')} ms:` +
      ` verification costs ${addedCpuMs} ms of CPU per invoke (median of ${rounds.length})`,
  );
  console.log(`  after SIGTERM        ${leftContainers} containers left   ${verdict(bars.leftContainersMeetsBar)}`);
}

function printBuildTable({ builds, oursMs, dockerBuildMs, ratio, addedBytes, contextFiles, baseImageLayers, bars }) {
  const kb = (bytes) => `${Math.round(bytes / 1000).toLocaleString('en-US')} KB`;
  console.log('');
  console.log(`lambkin build, a function image on lambkin/nodejs:24 (base cached, handler changed before each build, ${contextFiles} files)`);
  console.log(
    `  build time           ${oursMs} ms vs docker build ${dockerBuildMs} ms = ${ratio}   bar: ≤ 1.1   ${bars.ratioMeetsBar ? 'ok' : 'MISSED'}` +
      `   (median of ${builds}); the function's layers add ${kb(addedBytes)}`,
  );
  for (const { image, from, addedBytes: added } of baseImageLayers) console.log(`  ${image.padEnd(24)} adds ${kb(added)} to ${from}`);
}

function printEmulatorTable({ image, warm, coldStart, bars }) {
  console.log('');
  console.log(`Emulator in a container (${image}), invoked over HTTP from the host`);
  console.log(
    `  warm invoke latency  p50 ${warm.p50Ms} ms, p99 ${warm.p99Ms} ms over ${warm.invokes} invokes   bar: p50 < 2 ms   ${bars.warmMeetsBar ? 'ok' : 'MISSED'}`,
  );
  console.log(
    `  cold start           docker run → first answer ${coldStart.oursMs} ms vs bare docker run (node -e 0) ${coldStart.bareDockerRunMs} ms` +
      ` = ${coldStart.ratio}   bar: ≤ 1.3   ${bars.coldStartMeetsBar ? 'ok' : 'MISSED'}   (median of ${coldStart.starts})`,
  );
}

function printTable({ ours, ric, ratios }) {
  const rows = [
    ['', ours.name, ric.name, 'ours/ric', 'bar', ''],
    ['throughput (invokes/s)', ours.invokesPerSecond, ric.invokesPerSecond, ratios.throughputOursOverRic, '≥ 1.0', ratios.throughputMeetsBar ? 'ok' : 'MISSED'],
    ['start-up (ms)', ours.startupMs, ric.startupMs, ratios.startupOursOverRic, '≤ 1.0', ratios.startupMeetsBar ? 'ok' : 'MISSED'],
    [
      `throughput at concurrency ${ours.concurrency} (invokes/s)`,
      ours.concurrentInvokesPerSecond,
      ric.concurrentInvokesPerSecond,
      ratios.concurrentThroughputOursOverRic,
      '',
      '',
    ],
  ].map((row) => row.map(String));
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  console.log(
    `Runtime API loop on loopback, trivial handler logging one line per invoke to the telemetry pipe, Node ${process.version}` +
      ` (median of ${ROUNDS} rounds / ${STARTS} starts)`,
  );
  for (const row of rows)
    console.log(
      row
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
        .join('   ')
        .trimEnd(),
    );
  console.log(
    `  telemetry records read: ours ${ours.telemetryRecords}, ric ${ric.telemetryRecords} (one per invoke at concurrency 1);` +
      ` at concurrency ${ours.concurrency} one environment with AWS_LAMBDA_MAX_CONCURRENCY=${ours.concurrency}, ${ours.concurrency} invokes always outstanding`,
  );
}
