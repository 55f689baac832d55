// What the emulator's and serve's figures share: summing up latency samples, and timing a cold start against a
// bare `docker run` of the same image, interleaved so that drift on the machine hits both alike.
import { execa } from 'execa';
import { median, percentile, round } from './stats.mjs';

const roundMs = (ms: number) => round(ms, 2);

export interface LatencySummary {
  invokes: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export function summariseLatencies(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    invokes: sorted.length,
    p50Ms: roundMs(percentile(sorted, 50)),
    p99Ms: roundMs(percentile(sorted, 99)),
    meanMs: roundMs(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}

export interface ColdStartComparison {
  starts: number;
  oursMs: number;
  bareDockerRunMs: number;
  ratio: number;
  oursSamples: number[];
  bareSamples: number[];
}

/** `docker run --rm --entrypoint node IMAGE -e 0` to its exit, ms: the anchor every cold start is held to. */
export async function bareDockerRun(image: string, label: string): Promise<number> {
  const started = performance.now();
  await execa('docker', ['run', '--rm', '--label', label, '--entrypoint', 'node', image, '-e', '0']);
  return performance.now() - started;
}

/** One unmeasured start of each (file cache, image layers), then `starts` of each, who goes first alternating. */
export async function compareColdStarts(starts: number, ours: () => Promise<number>, bare: () => Promise<number>): Promise<ColdStartComparison> {
  const [bareSamples, oursSamples] = await interleaved(starts, bare, ours);
  const oursMs = median(oursSamples);
  const bareDockerRunMs = median(bareSamples);
  return {
    starts,
    oursMs: roundMs(oursMs),
    bareDockerRunMs: roundMs(bareDockerRunMs),
    ratio: round(oursMs / bareDockerRunMs, 3),
    oursSamples: oursSamples.map(roundMs),
    bareSamples: bareSamples.map(roundMs),
  };
}

/**
 * One unmeasured run of each (file cache, image layers), then `rounds` measured runs of each, who goes first
 * alternating, so machine noise and drift hit both alike. Each function resolves the ms it measured.
 */
export async function interleaved(
  rounds: number,
  first: () => Promise<number>,
  second: () => Promise<number>,
  onRound: (round: number, firstMs: number, secondMs: number) => void = () => {},
): Promise<[number[], number[]]> {
  await first();
  await second();
  const firstSamples: number[] = [];
  const secondSamples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      firstSamples.push(await first());
      secondSamples.push(await second());
    } else {
      secondSamples.push(await second());
      firstSamples.push(await first());
    }
    onRound(i, firstSamples.at(-1)!, secondSamples.at(-1)!);
  }
  return [firstSamples, secondSamples];
}
