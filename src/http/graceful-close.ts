// Closing an http.Server without cutting its callers off. server.close() alone stops listening and waits for every
// connection, and destroying the sockets instead (what a quick stop does) turns a running invoke into "socket hang
// up" for its caller. A graceful close:
//   1. stops listening and closes the idle kept-alive connections (node:http does both in server.close());
//   2. lets the requests in flight finish, up to a grace period, each answer telling its client not to reuse the
//      connection (Connection: close);
//   3. answers a request that arrives meanwhile on a connection that was already open with a clear refusal;
//   4. when the grace runs out, answers what is still running with a clear error where no byte has been sent yet,
//      cuts the rest (a streamed answer cannot take an error any more), and destroys the remaining sockets.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TrackedServer } from './tracked-server.ts';

/** How long the answers written when the grace runs out get to reach their callers before their sockets go. */
const FLUSH_MS = 1_000;

export type ClosingAnswer =
  /** A request that came in after the close began. */
  | 'closing'
  /** A request still running when the grace period ran out. */
  | 'grace-expired';

export class GracefulCloser {
  private readonly server: TrackedServer;
  private readonly answer: (res: ServerResponse, why: ClosingAnswer, graceMs: number) => void;
  private readonly inFlight = new Set<ServerResponse>();
  private closing: { graceMs: number; done: Promise<{ unfinished: number }> } | undefined;
  private onSettled: (() => void) | undefined;

  /** `answer` writes the server's own error (with `Connection: close` already set on `res`). */
  constructor(server: TrackedServer, answer: (res: ServerResponse, why: ClosingAnswer, graceMs: number) => void) {
    this.server = server;
    this.answer = answer;
  }

  /** Requests being served now (not counting those refused while closing). */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Call first for every request: true to go on serving it; false when the server is closing, and the request has
   * been answered already.
   */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.closing) {
      req.resume();
      res.setHeader('Connection', 'close');
      this.answer(res, 'closing', this.closing.graceMs);
      return false;
    }
    this.inFlight.add(res);
    res.once('close', () => {
      this.inFlight.delete(res);
      if (this.inFlight.size === 0) this.onSettled?.();
    });
    return true;
  }

  /**
   * Closes as above, waiting up to `graceMs` for the requests in flight (0: answer them at once). Resolves how many
   * were still running when the grace ran out. Idempotent.
   */
  close(graceMs: number): Promise<{ unfinished: number }> {
    this.closing ??= { graceMs, done: this.closeNow(graceMs) };
    return this.closing.done;
  }

  private async closeNow(graceMs: number): Promise<{ unfinished: number }> {
    const closed = this.server.stopListening();
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    if (graceMs > 0 && this.inFlight.size > 0) await this.settled(graceMs);

    const answered = new Set<Socket>();
    const unfinished = this.inFlight.size;
    for (const res of [...this.inFlight]) {
      if (res.headersSent || !res.socket) {
        res.destroy();
        continue;
      }
      answered.add(res.socket);
      this.answer(res, 'grace-expired', graceMs);
    }
    this.server.destroySockets(answered);
    // node:http ends each answered socket once its answer is written (Connection: close); a client that stops
    // reading must not hold the close up.
    const flushed = setTimeout(() => this.server.destroySockets(), FLUSH_MS);
    await closed;
    clearTimeout(flushed);
    return { unfinished };
  }

  /** Resolves when no request is in flight, or after `graceMs`. */
  private settled(graceMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, graceMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.onSettled = done;
    });
  }
}
