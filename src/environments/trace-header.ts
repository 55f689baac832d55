// The X-Ray trace header Lambda gives every invoke. A caller's X-Amzn-Trace-Id is passed on as it came; without
// one Lambda makes its own, not sampled under the default tracing mode (PassThrough), so that the runtime always
// has a Lambda-Runtime-Trace-Id to put in _X_AMZN_TRACE_ID (X-Ray SDKs and AWS Lambda Powertools' Tracer read it
// there, and log "Missing AWS Lambda trace data" on every invoke without it).
import { randomHex } from '../runtime-api/random-hex.ts';

/**
 * A new trace header in X-Ray's form: `Root=1-<8 hex: epoch seconds>-<24 hex>;Parent=<16 hex>;Sampled=0`, as AWS's
 * own (`Root=1-6344e1c9-0774f02c3a7c71822e671f10;Parent=3e10b9915eae3f11;Sampled=0`).
 */
export function newTraceHeader(nowMs = Date.now()): string {
  const epochSeconds = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${epochSeconds}-${randomHex(12)};Parent=${randomHex(8)};Sampled=0`;
}

/** The header the invoke's runtime gets: the caller's, or a new one. */
export function invokeTraceHeader(callerHeader: string | undefined): string {
  return callerHeader?.trim() ? callerHeader : newTraceHeader();
}
