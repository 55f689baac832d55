// The in-process face of the Runtime API server: what its users (the emulator, the environment pool) hand it and
// what they get back. Nothing here knows about HTTP; see server.ts for the wire side.
import type { Readable } from 'node:stream';

/** An event to deliver to the runtime, with the metadata the Runtime API hands out on `/next`. */
export interface InvokeRequest {
  /** Lambda-Runtime-Aws-Request-Id. A fresh UUID when omitted. */
  requestId?: string;
  /** The event body, passed to the runtime as is. */
  payload: Buffer | string;
  /** Function timeout in ms; the deadline is invoke start + timeout. */
  timeoutMs: number;
  /** Lambda-Runtime-Invoked-Function-Arn */
  invokedFunctionArn?: string;
  /** Lambda-Runtime-Trace-Id (X-Ray `Root=...;Parent=...;Sampled=...`). */
  traceId?: string;
  /** Lambda-Runtime-Client-Context: decoded JSON text (not base64). */
  clientContext?: string;
  /** Lambda-Runtime-Cognito-Identity: JSON text. */
  cognitoIdentity?: string;
  /** Content-Type of the event; application/json when omitted. */
  contentType?: string;
}

/** The error body shape used everywhere on the Runtime API. */
export interface ErrorBody {
  errorType: string;
  errorMessage: string;
  stackTrace?: string[];
  trace?: string[];
  [extra: string]: unknown;
}

/** Trailers that close a streamed response; both absent when the stream ended cleanly. */
export interface StreamTrailers {
  errorType?: string;
  /** The decoded (base64 → JSON) error body, when the runtime sent one. */
  errorBody?: ErrorBody;
}

export type InvokeOutcome =
  /** A buffered response: the whole body, with the runtime's own Content-Type. */
  | { kind: 'success'; requestId: string; body: Buffer; contentType: string; durationMs: number }
  /**
   * A streamed response: resolved as soon as the runtime starts streaming. `body` yields the bytes as they
   * arrive; `end` settles when the runtime has finished (with the trailers it sent, if any).
   */
  | {
      kind: 'streaming';
      requestId: string;
      body: Readable;
      contentType: string;
      end: Promise<{ trailers: StreamTrailers; durationMs: number }>;
    }
  /** The runtime posted `/error`, or its response broke a limit (Function.ResponseSizeTooLarge). */
  | {
      kind: 'function-error';
      requestId: string;
      error: ErrorBody;
      /** The error as the caller sees it: the runtime's JSON as posted. */
      body: Buffer;
      durationMs: number;
      /** Lambda-Runtime-Function-XRay-Error-Cause, when the runtime sent it. */
      xrayErrorCause?: string;
    }
  /** The runtime failed to initialise (posted `/init/error`). The environment must be replaced. */
  | { kind: 'init-error'; requestId: string; error: ErrorBody; body: Buffer; durationMs: number }
  /**
   * The deadline passed with no answer. One invoke at a time: the environment must be killed and replaced (the
   * server emits 'timeout'); with maxConcurrency > 1 only this invoke fails ('invoke-timeout').
   */
  | { kind: 'timeout'; requestId: string; error: ErrorBody; durationMs: number }
  /** The runtime process went away during the invoke (reported by the owner through runtimeExited()). */
  | { kind: 'runtime-exit'; requestId: string; error: ErrorBody; durationMs: number };

/** How the init phase ended: the runtime's first `/next` (ready) or its `/init/error`, or its exit. */
export type InitOutcome =
  | { kind: 'ready'; initDurationMs: number }
  | { kind: 'init-error'; error: ErrorBody; body: Buffer; initDurationMs: number }
  | { kind: 'runtime-exit'; error: ErrorBody; initDurationMs: number };

export interface RuntimeApiServerOptions {
  /** Address to listen on; 127.0.0.1 by default. */
  host?: string;
  /** Port; 0 (any free port) by default. */
  port?: number;
  /** Largest buffered response, bytes. AWS's 6,291,556 by default. */
  maxResponseBytes?: number;
  /**
   * The one peer address served (the environment's container); connections from any other address are closed
   * before a byte is read. Every peer when omitted (a listener on the sandbox's own loopback, as in the emulator).
   */
  allowedPeer?: string;
  /**
   * How many invokes the runtime may have in flight at once: 1 (classic Lambda) by default. More, as Lambda Managed
   * Instances do (the runtime is given AWS_LAMBDA_MAX_CONCURRENCY): any number of `/next` may wait, up to this many
   * events are handed out, each with its own deadline and answered by its own id; a timeout fails only its invoke
   * (event 'invoke-timeout', not 'timeout').
   */
  maxConcurrency?: number;
}
