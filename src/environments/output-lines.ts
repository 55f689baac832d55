// A runtime's output as lines, as they arrive: the container's multiplexed stdout/stderr stream (no TTY) is
// split by the engine's framing, then into lines per stream; the records of its telemetry log pipe join them as
// events of their own (emit()). Listeners are called synchronously, in order.
import { PassThrough, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type Dockerode from 'dockerode';
import type { OutputLine, OutputListener } from './backend.ts';

export class OutputLines {
  private readonly listeners = new Set<OutputListener>();

  constructor(first?: OutputListener) {
    if (first) this.listeners.add(first);
  }

  subscribe(listener: OutputListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads a hijacked attach stream until it ends; resolves then (after the last line has been delivered). */
  follow(docker: Dockerode, attached: NodeJS.ReadableStream): Promise<void> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    docker.modem.demuxStream(attached, stdout, stderr);
    const done = Promise.all([this.split(stdout, 'stdout'), this.split(stderr, 'stderr')]).then(() => undefined);
    const end = () => {
      stdout.end();
      stderr.end();
    };
    attached.once('end', end);
    attached.once('close', end);
    attached.once('error', end);
    return done;
  }

  private split(stream: Readable, name: OutputLine['stream']): Promise<void> {
    const decoder = new StringDecoder('utf8');
    let pending = '';
    return new Promise((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        pending += decoder.write(chunk);
        let newline: number;
        while ((newline = pending.indexOf('\n')) !== -1) {
          this.emit({ stream: name, line: pending.slice(0, newline) });
          pending = pending.slice(newline + 1);
        }
      });
      stream.once('end', () => {
        pending += decoder.end();
        if (pending) this.emit({ stream: name, line: pending });
        resolve();
      });
    });
  }

  /** An event that did not come through the attach stream (a telemetry record), to the same listeners. */
  emit(output: OutputLine): void {
    for (const listener of this.listeners) {
      try {
        listener(output);
      } catch {
        // A failing log consumer must not stop the others, nor the runtime's output.
      }
    }
  }
}
