// The `responseStream` a streaming handler writes to: a Writable whose bytes become the streamed response.
// Nothing is sent until the first write (or end), so the content type can be chosen until then; the
// HTTP-integration prelude set by HttpResponseStream.from goes out first.
import { Writable } from 'node:stream';
import { PRELUDE, type PreludeTarget } from './awslambda-global.ts';
import { RuntimeError } from './errors.ts';
import type { StreamedResponseRequest } from './response-request.ts';

/** What the stream tells the invoke it belongs to. */
export interface ResponseStreamOwner {
  /** end() was called and everything written has been handed to the request. */
  onStreamEnded(): Promise<void>;
  /** destroy(error), or a pipeline into the stream failed. */
  onStreamFailed(error: unknown): void;
  /** destroy() without an error before end(): what was written is the response. */
  onStreamClosedEarly(): void;
}

export class ResponseStream extends Writable implements PreludeTarget {
  [PRELUDE]?: Buffer;
  #contentType = 'application/octet-stream';
  readonly #request: StreamedResponseRequest;
  readonly #owner: ResponseStreamOwner;
  #ended = false;

  constructor(request: StreamedResponseRequest, owner: ResponseStreamOwner, highWaterMark: number | undefined) {
    super(highWaterMark === undefined ? {} : { highWaterMark });
    this.#request = request;
    this.#owner = owner;
    // A stream destroyed with an error emits 'error'; with no listener of the handler's own, Node.js would
    // crash the runtime over a failure that the trailers already report. The owner keeps the first failure.
    this.on('error', (error) => owner.onStreamFailed(error));
  }

  /** Sets the response's Content-Type; only possible before anything has been written. */
  setContentType(contentType: string): void {
    if (this.#request.started) {
      throw new RuntimeError('Runtime.InvalidStreamingOperation', 'Cannot set content-type, too late.');
    }
    this.#contentType = contentType;
  }

  /** Sends the request head and prelude if that has not happened yet. */
  startIfNeeded(): void {
    if (!this.#request.started) this.#request.start(this.#contentType, this[PRELUDE]);
  }

  /** Sends the request head without the prelude (a failure before the first write), if not sent yet. */
  startWithoutPrelude(): void {
    if (!this.#request.started) this.#request.start(this.#contentType, undefined);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.startIfNeeded();
    if (this.#request.write(chunk)) callback();
    else this.#request.onceDrain(() => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#ended = true;
    this.startIfNeeded();
    this.#owner.onStreamEnded().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#ended) {
      if (error) this.#owner.onStreamFailed(error);
      else this.#owner.onStreamClosedEarly();
    }
    callback(error);
  }
}
