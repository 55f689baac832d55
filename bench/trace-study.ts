// The keep-alive trace study: one synthetic Azure-like day (tools/trace/generate.ts) replayed through the pool
// simulation (tools/trace/simulate.ts) under Lambda's fixed 10-minute keep-alive and under the hybrid histogram
// policy of "Serverless in the Wild" (src/environments/hybrid-keep-alive.ts): as lambkin runs it (its defaults:
// idle times per concurrency level, a histogram trusted from 10 samples and a bin-count CV of 2, the keep-alive
// window ended at the 99th percentile or sooner where it stops paying for itself, a cold start priced at 30 minutes
// of idle memory), and as the paper states it (the function-level idle time, trusted from 5 samples and a CV of 2,
// the window always to the 99th percentile), for comparison.
// Bar: the hybrid policy (lambkin's defaults) has fewer cold starts than the fixed keep-alive, at no more memory-time.
// Memory-time counts every environment from its start to its stop, memoryMb × time, busy or idle.
// Run directly: npx node bench/trace-study.ts [--seed N] [--json]        (about a second)
import { FixedKeepAlive, type KeepAlivePolicy } from '../src/environments/keep-alive.ts';
import { HybridHistogramKeepAlive } from '../src/environments/hybrid-keep-alive.ts';
import { generateTrace, type FunctionKind, type Trace } from '../tools/trace/generate.ts';
import { simulate, type SimulationResult } from '../tools/trace/simulate.ts';

const FIXED_KEEP_ALIVE_MS = 10 * 60_000;
/** The seed the bench reports; `--seed N` replays another day. */
const SEED = 1;

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

function summary(trace: Trace, result: SimulationResult) {
  const byKind: Partial<Record<FunctionKind, { invocations: number; coldStarts: number; memoryGbSeconds: number }>> = {};
  for (const fn of trace.functions) {
    const counts = result.perFunction.get(fn.name)!;
    const kind = (byKind[fn.kind] ??= { invocations: 0, coldStarts: 0, memoryGbSeconds: 0 });
    kind.invocations += counts.invocations;
    kind.coldStarts += counts.coldStarts;
    kind.memoryGbSeconds += counts.memoryGbSeconds;
  }
  return {
    coldStarts: result.coldStarts,
    coldStartShare: round(result.coldStartShare, 4),
    coldStartsOnPrewarming: result.coldStartsOnPrewarming,
    prewarms: result.prewarms,
    environmentsStarted: result.environmentsStarted,
    memoryGbSeconds: round(result.memoryGbSeconds, 0),
    idleGbSeconds: round(result.idleGbSeconds, 0),
    peakMemoryMb: result.peakMemoryMb,
    functionsMostlyCold: result.functionsMostlyCold,
    byKind: Object.fromEntries(Object.entries(byKind).map(([kind, k]) => [kind, { ...k, memoryGbSeconds: round(k.memoryGbSeconds, 0) }])),
  };
}

export async function traceStudy(seed = SEED) {
  const started = performance.now();
  const trace = generateTrace({ seed });
  const run = (policy: KeepAlivePolicy) => summary(trace, simulate(trace, policy));
  const fixed = run(new FixedKeepAlive(FIXED_KEEP_ALIVE_MS));
  const hybrid = run(new HybridHistogramKeepAlive({ fallbackKeepAliveMs: FIXED_KEEP_ALIVE_MS }));
  const paper = run(
    new HybridHistogramKeepAlive({
      fallbackKeepAliveMs: FIXED_KEEP_ALIVE_MS,
      idleTimes: 'function',
      minSamples: 5,
      minBinCountCv: 2,
      coldStartCostMs: Infinity,
    }),
  );
  const coldStartsHybridOverFixed = round(hybrid.coldStarts / fixed.coldStarts, 3);
  const memoryHybridOverFixed = round(hybrid.memoryGbSeconds / fixed.memoryGbSeconds, 3);
  return {
    trace: {
      seed,
      hours: trace.durationMs / 3_600_000,
      functions: trace.functions.length,
      functionsInvoked: new Set(trace.events.map((event) => event.fn)).size,
      invocations: trace.events.length,
    },
    fixed: { keepAliveMinutes: FIXED_KEEP_ALIVE_MS / 60_000, ...fixed },
    hybrid: {
      policy:
        'hybrid histogram, 1 min bins, 4 h range, p5/p99, 10% margin; per concurrency level, >= 10 samples, CV >= 2; ' +
        'window cut at break-even, a cold start priced at 30 min of idle memory',
      ...hybrid,
    },
    paperParameters: { policy: 'the same, function-level idle times, >= 5 samples, CV >= 2, window always to p99', ...paper },
    ratios: {
      coldStartsHybridOverFixed,
      memoryHybridOverFixed,
      coldStartsPaperOverFixed: round(paper.coldStarts / fixed.coldStarts, 3),
      memoryPaperOverFixed: round(paper.memoryGbSeconds / fixed.memoryGbSeconds, 3),
      bar: 'cold starts < 1, memory <= 1',
      meetsBar: coldStartsHybridOverFixed < 1 && memoryHybridOverFixed <= 1,
    },
    elapsedMs: Math.round(performance.now() - started),
  };
}

export function printTraceStudy(study: Awaited<ReturnType<typeof traceStudy>>): void {
  const { trace, fixed, hybrid, paperParameters, ratios } = study;
  const line = (name: string, r: typeof fixed | typeof hybrid) =>
    `  ${name.padEnd(26)} ${String(r.coldStarts).padStart(6)} cold starts (${(r.coldStartShare * 100).toFixed(2)}%),` +
    ` ${String(r.memoryGbSeconds).padStart(8)} GB·s held (${r.idleGbSeconds} idle), peak ${r.peakMemoryMb} MB,` +
    ` ${r.functionsMostlyCold} functions mostly cold`;
  console.log('');
  console.log(
    `Keep-alive trace study: ${trace.functions} functions, ${trace.hours} h, ${trace.invocations} invokes (synthetic Azure-like trace, seed ${trace.seed})`,
  );
  console.log(line(`fixed ${fixed.keepAliveMinutes} min keep-alive`, fixed));
  console.log(line('hybrid histogram', hybrid));
  console.log(line('hybrid, paper parameters', paperParameters));
  console.log(`  paper parameters/fixed     cold starts ${ratios.coldStartsPaperOverFixed}, memory-time ${ratios.memoryPaperOverFixed}`);
  console.log(
    `  hybrid/fixed               cold starts ${ratios.coldStartsHybridOverFixed}, memory-time ${ratios.memoryHybridOverFixed}` +
      `   bar: ${ratios.bar}   ${ratios.meetsBar ? 'ok' : 'MISSED'}`,
  );
}

if (import.meta.main) {
  const seedAt = process.argv.indexOf('--seed');
  const study = await traceStudy(seedAt > 0 ? Number(process.argv[seedAt + 1]) : SEED);
  if (process.argv.includes('--json')) console.log(JSON.stringify(study));
  else {
    printTraceStudy(study);
    for (const [kind, f] of Object.entries(study.fixed.byKind)) {
      const h = study.hybrid.byKind[kind]!;
      const p = study.paperParameters.byKind[kind]!;
      console.log(
        `  ${kind.padEnd(8)} ${String(f.invocations).padStart(6)} invokes: cold starts fixed ${f.coldStarts}, hybrid ${h.coldStarts}, paper ${p.coldStarts};` +
          ` GB·s fixed ${f.memoryGbSeconds}, hybrid ${h.memoryGbSeconds}, paper ${p.memoryGbSeconds}`,
      );
    }
    console.log(`  (${study.elapsedMs} ms)`);
  }
}
