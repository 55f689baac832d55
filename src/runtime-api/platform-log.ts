// The lines the platform prints around each invoke (START / END / REPORT), in Lambda's exact format, so log
// tooling written for CloudWatch parses ours; and the name of the log stream they go to.
import { randomHex } from './random-hex.ts';

/** `YYYY/MM/DD/[<version>]<32 hex>`, as CloudWatch names a new environment's log stream. */
export function logStreamName(version: string, now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${version}]${randomHex(16)}`;
}

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}\n`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}\n`;
}

/** A measured peak as REPORT's Max Memory Used gives it: whole MB, rounded up. */
export function reportedMb(bytes: number): number {
  return Math.ceil(bytes / (1024 * 1024));
}

export interface ReportFigures {
  requestId: string;
  durationMs: number;
  memorySizeMb: number;
  /** Measured peak, in MB; omitted when it could not be measured. */
  maxMemoryUsedMb: number | undefined;
  /** Only on an environment's first invoke. */
  initDurationMs?: number | undefined;
}

export function reportLine(figures: ReportFigures): string {
  const fields = [
    `REPORT RequestId: ${figures.requestId}`,
    `Duration: ${figures.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${Math.max(1, Math.ceil(figures.durationMs))} ms`,
    `Memory Size: ${figures.memorySizeMb} MB`,
  ];
  if (figures.maxMemoryUsedMb !== undefined) fields.push(`Max Memory Used: ${figures.maxMemoryUsedMb} MB`);
  if (figures.initDurationMs !== undefined) fields.push(`Init Duration: ${figures.initDurationMs.toFixed(2)} ms`);
  return `${fields.join('\t')}\t\n`;
}
