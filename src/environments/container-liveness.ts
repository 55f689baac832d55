// Whether a container still runs, known without trusting one long-lived connection to the engine. The engine's
// `wait` is a long poll: it answers the moment the container stops, but only over the connection it was asked on.
// When that connection drops (engine restart, a proxy or NAT in between, a remote engine's network), the wait is
// asked again, with a growing pause, until the engine answers: a container that stopped meanwhile is reported at
// once (wait answers at once for a stopped container), one that was removed answers 404. A wait whose connection
// died without a word (a NAT dropping it, an engine that hangs) is covered by a periodic bounded inspect.
//
// dockerode's own container.wait() cannot be used for this: the engine sends the response's headers at once and
// its body at the exit, and docker-modem only listens for the body's end, so a connection dropped in between leaves
// its promise pending for ever. askWait() asks through the same modem but watches the response itself.
import type { IncomingMessage } from 'node:http';
import type Dockerode from 'dockerode';
import { engineStatus } from '../docker/errors.ts';
import type { ContainerExit } from './exit-reason.ts';

/**
 * The most any one request to the engine (inspect, kill, remove, stats) may take. A local engine answers these in
 * milliseconds, a loaded one well within a second: no answer after 2 s means it is away or stuck, and waiting
 * longer would only hold up whoever waits on it (an invoke's REPORT, a shutdown).
 */
export const ENGINE_CALL_TIMEOUT_MS = 2_000;
/**
 * How often a container's state is checked with an inspect, besides its wait. Only a wait whose connection died
 * silently needs it, so it can be rare: an invoke never waits on it (its own deadline ends it), only the noticing
 * of an idle environment's death does.
 */
export const LIVENESS_PROBE_INTERVAL_MS = 10_000;
/** The first pause before a wait is asked again after its connection failed: a blip heals in a moment. */
export const RECONNECT_FIRST_DELAY_MS = 100;
/** The longest pause between two attempts: an engine that comes back is noticed within this. */
export const RECONNECT_MAX_DELAY_MS = 2_000;

/** How a container ended: its exit (code, OOM kill), or gone: removed before its exit could be read. */
export type ContainerEnd = ContainerExit | { gone: true };

/** Aborts an engine request after ENGINE_CALL_TIMEOUT_MS (or when `also` aborts). */
export function engineCallSignal(also?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(ENGINE_CALL_TIMEOUT_MS);
  return also ? AbortSignal.any([timeout, also]) : timeout;
}

/** Resolves after `ms`, without keeping the process alive on its own. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export type ProbeResult = 'running' | 'ended' | 'unknown';

/** Follows one container until it has ended, across dropped engine connections. */
export class ContainerWatch {
  /** Settles once the container is known to have stopped, or to be gone. Never rejects. */
  readonly ended: Promise<ContainerEnd>;
  private readonly container: Dockerode.Container;
  private settle!: (end: ContainerEnd) => void;
  private closed = false;
  /** The wait in progress: aborting it asks for a fresh one. */
  private waiting: AbortController | undefined;
  /** The last request to the engine failed: the wait in progress may have been asked over a dead connection. */
  private engineAway = false;
  private readonly probeTimer: NodeJS.Timeout;

  constructor(container: Dockerode.Container) {
    this.container = container;
    this.ended = new Promise((resolve) => (this.settle = resolve));
    this.probeTimer = setInterval(() => void this.probe(), LIVENESS_PROBE_INTERVAL_MS);
    this.probeTimer.unref();
    void this.follow();
  }

  /**
   * Asks the engine for the container's state, within ENGINE_CALL_TIMEOUT_MS: `ended` (and `ended` settles),
   * `running`, or `unknown` when the engine did not answer.
   */
  async probe(): Promise<ProbeResult> {
    if (this.closed) return 'ended';
    let state: Dockerode.ContainerInspectInfo['State'];
    try {
      state = (await this.container.inspect({ abortSignal: engineCallSignal() })).State;
    } catch (error) {
      if (engineStatus(error) === 404) {
        this.end({ gone: true });
        return 'ended';
      }
      this.engineAway = true;
      return 'unknown';
    }
    if (this.closed) return 'ended';
    if (state.Running || state.Restarting || state.Status === 'created') {
      if (this.engineAway) {
        // The engine is back: the wait asked while it was away may hang on a dead connection; ask again.
        this.engineAway = false;
        this.waiting?.abort();
      }
      return 'running';
    }
    this.end({ exitCode: state.ExitCode, oomKilled: state.OOMKilled });
    return 'ended';
  }

  /** Stops following: no more requests to the engine. */
  close(): void {
    this.closed = true;
    clearInterval(this.probeTimer);
    this.waiting?.abort();
  }

  private end(end: ContainerEnd): void {
    if (this.closed) return;
    this.close();
    this.settle(end);
  }

  private async follow(): Promise<void> {
    let delay = RECONNECT_FIRST_DELAY_MS;
    while (!this.closed) {
      const waiting = new AbortController();
      this.waiting = waiting;
      const askedAt = performance.now();
      try {
        const result = await askWait(this.container, waiting.signal);
        // Stopped. Only inspect tells an OOM kill apart (wait says 137 either way).
        const state = await this.probe();
        if (state === 'unknown') return this.end({ exitCode: result.StatusCode ?? -1, oomKilled: false });
        if (state === 'ended') return;
        // Running again after its wait answered (restarted by someone): keep following, without spinning.
      } catch (error) {
        if (this.closed) return;
        if (engineStatus(error) === 404) return this.end({ gone: true });
        if (waiting.signal.aborted) {
          // A probe found the engine back and asked for a fresh wait.
          delay = RECONNECT_FIRST_DELAY_MS;
          continue;
        }
        this.engineAway = true;
        // A wait that stood for a while had a healthy connection: this failure is a new one, start over.
        if (performance.now() - askedAt > RECONNECT_MAX_DELAY_MS) delay = RECONNECT_FIRST_DELAY_MS;
      }
      await pause(delay);
      delay = Math.min(delay * 2, RECONNECT_MAX_DELAY_MS);
    }
  }
}

/**
 * The engine's wait for one container (until it is not running), through dockerode's modem: resolves with its
 * answer, rejects when the engine refuses (404: no such container) or the connection ends before the answer.
 */
export function askWait(container: Dockerode.Container, signal: AbortSignal): Promise<{ StatusCode?: number }> {
  return new Promise((resolve, reject) => {
    const request = {
      path: `/containers/${container.id}/wait?`,
      method: 'POST',
      abortSignal: signal,
      isStream: true,
      statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such container', 500: 'server error' },
      options: {},
    };
    container.modem.dial(request, (error: unknown, response: IncomingMessage | undefined) => {
      if (error || !response) return reject(error ?? new Error('no response to wait'));
      const chunks: Buffer[] = [];
      let settled = false;
      const fail = (reason: unknown) => {
        if (settled) return;
        settled = true;
        response.destroy();
        reject(reason);
      };
      signal.addEventListener('abort', () => fail(signal.reason), { once: true });
      if (signal.aborted) return fail(signal.reason);
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('aborted', () => fail(new Error('the connection to the Docker engine dropped during wait')));
      response.on('close', () => fail(new Error('the connection to the Docker engine closed before wait answered')));
      response.on('end', () => {
        if (settled) return;
        settled = true;
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { StatusCode?: number });
        } catch (parseError) {
          reject(parseError);
        }
      });
    });
  });
}

/** `promise`'s value, or undefined once `signal` aborts first (the work goes on; nobody waits for it). Never rejects. */
export function unlessAborted<T>(promise: Promise<T> | undefined, signal: AbortSignal): Promise<T | undefined> {
  if (!promise) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const onAbort = () => resolve(undefined);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise
      .then(
        (value) => resolve(value),
        () => resolve(undefined),
      )
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}
