// The variables Lambda gives every runtime (its function's name, version and memory, its log group and stream, its
// region, how it was initialised, where its code and runtime live, the Runtime API's address, the handler), named
// and formed once for the emulator and the host's environments. Which other variables sit beside them, and which
// win, is each one's own rule (emulator.ts, environments/container-spec.ts).
import { logStreamName } from './platform-log.ts';

/** Where a function's code is (LAMBDA_TASK_ROOT). */
export const TASK_ROOT = '/var/task';
/** Where the runtime is (LAMBDA_RUNTIME_DIR). */
export const RUNTIME_DIR = '/var/runtime';

export interface RuntimeFacts {
  functionName: string;
  functionVersion: string;
  memorySizeMb: number;
  region: string;
  /** `host:port` of the Runtime API (AWS_LAMBDA_RUNTIME_API). */
  runtimeApi: string;
  /** A fresh `YYYY/MM/DD/[<version>]<32 hex>` when omitted. */
  logStreamName?: string | undefined;
  /** `on-demand` when omitted. */
  initializationType?: string | undefined;
  /** TASK_ROOT when omitted. */
  taskRoot?: string | undefined;
  /** RUNTIME_DIR when omitted. */
  runtimeDir?: string | undefined;
  /** `_HANDLER`, when there is one. */
  handler?: string | undefined;
}

/** The X-Ray daemon's UDP port in a Lambda sandbox. */
export const XRAY_DAEMON_PORT = '2000';

/**
 * The X-Ray variables every Lambda runtime gets, whatever the function's tracing mode: the daemon's address (on
 * Lambda the same link-local host as the Runtime API: `169.254.100.1:9001` and `169.254.100.1:2000`), and
 * LOG_ERROR so that an X-Ray SDK logs rather than throws when it finds no trace context. Here nothing listens
 * there: a sampled segment sent by UDP is simply lost, as it would be with no daemon.
 */
export function xrayVariables(runtimeApi: string): Record<string, string> {
  const host = runtimeApi.slice(0, runtimeApi.lastIndexOf(':'));
  return {
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    AWS_XRAY_DAEMON_ADDRESS: `${host}:${XRAY_DAEMON_PORT}`,
    _AWS_XRAY_DAEMON_ADDRESS: host,
    _AWS_XRAY_DAEMON_PORT: XRAY_DAEMON_PORT,
  };
}

export function lambdaVariables(facts: RuntimeFacts): Record<string, string> {
  const variables: Record<string, string> = {
    AWS_LAMBDA_RUNTIME_API: facts.runtimeApi,
    AWS_LAMBDA_FUNCTION_NAME: facts.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: facts.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(facts.memorySizeMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${facts.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: facts.logStreamName ?? logStreamName(facts.functionVersion),
    AWS_LAMBDA_INITIALIZATION_TYPE: facts.initializationType ?? 'on-demand',
    AWS_REGION: facts.region,
    AWS_DEFAULT_REGION: facts.region,
    LAMBDA_TASK_ROOT: facts.taskRoot ?? TASK_ROOT,
    LAMBDA_RUNTIME_DIR: facts.runtimeDir ?? RUNTIME_DIR,
  };
  if (facts.handler) variables._HANDLER = facts.handler;
  return variables;
}
