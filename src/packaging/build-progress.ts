// What an image build says while it runs: the engine's JSON lines turned into events (a step begins, a step's
// output, a pull's status), and the CLI's two ways of showing them: on a terminal one status line that updates in
// place (the step and its latest output), elsewhere (CI, a pipe, a file) the engine's plain lines, as
// `docker build` prints them.

/** One line of the engine's /build stream (legacy builder). */
export interface EngineBuildMessage {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: { ID?: string };
}

export type BuildProgressEvent =
  /** A Dockerfile step begins: "Step 2/3 : COPY . ${LAMBDA_TASK_ROOT}/". */
  | { kind: 'step'; step: number; total: number; instruction: string; text: string }
  /** Anything else the build prints (a RUN's output, " ---> 1a2b3c", "Successfully built"): raw, may hold newlines. */
  | { kind: 'output'; text: string }
  /** A pull's or a layer's status ("Pulling from ...", "Downloading"). */
  | { kind: 'status'; text: string };

const STEP = /^Step (\d+)\/(\d+) : (.*)$/;

/** The events in one engine message (none for aux and error lines, which the build itself handles). */
export function progressEvents(message: EngineBuildMessage): BuildProgressEvent[] {
  if (typeof message.stream === 'string' && message.stream !== '') {
    const events: BuildProgressEvent[] = [];
    // The engine sends each step header as its own message; a RUN's output may be split anywhere.
    const step = STEP.exec(message.stream.trimEnd());
    if (step) {
      events.push({ kind: 'step', step: Number(step[1]), total: Number(step[2]), instruction: step[3]!, text: message.stream });
    } else {
      events.push({ kind: 'output', text: message.stream });
    }
    return events;
  }
  if (typeof message.status === 'string') {
    const text = [message.id, message.status, message.progress].filter(Boolean).join(' ');
    return [{ kind: 'status', text }];
  }
  return [];
}

/**
 * Tracks the image ids a build creates (" ---> 1a2b3c" after a step that did not come from the cache, FROM
 * excepted), so that a failed build can remove the intermediate image the engine leaves dangling.
 */
export class CreatedImages {
  readonly ids: string[] = [];
  #instruction = '';
  #cached = false;
  #pending = '';

  observe(event: BuildProgressEvent): void {
    if (event.kind === 'step') {
      this.#instruction = event.instruction;
      this.#cached = false;
      this.#pending = '';
      return;
    }
    if (event.kind !== 'output') return;
    const lines = (this.#pending + event.text).split('\n');
    this.#pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith(' ---> Using cache')) this.#cached = true;
      const id = /^ ---> ([0-9a-f]{12,64})\s*$/.exec(line)?.[1];
      if (id && !this.#cached && !/^FROM\s/i.test(this.#instruction)) this.ids.push(id);
    }
  }
}

export interface ProgressWriter {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** The CLI's renderer: returns the onProgress callback and `finish`, to call once the build ends either way. */
export function progressRenderer(out: ProgressWriter): { onProgress: (event: BuildProgressEvent) => void; finish: (failed: boolean) => void } {
  if (!out.isTTY) {
    let atLineStart = true;
    let lastStatus = '';
    return {
      onProgress: (event) => {
        let text = event.text;
        if (event.kind === 'status') {
          // A pull repeats its status per layer and per chunk: once per distinct line is enough in a log.
          if (text === lastStatus) return;
          lastStatus = text;
          text = `${text}\n`;
        }
        out.write(text);
        atLineStart = text.endsWith('\n');
      },
      finish: () => {
        if (!atLineStart) out.write('\n');
      },
    };
  }

  let step = '';
  let detail = '';
  let partial = '';
  /** The current step's output, kept to print when the step fails (the status line shows only its last line). */
  let stepOutput: string[] = [];
  const render = () => {
    const width = Math.max(20, (out.columns || 80) - 1); // a pty without a size says 0
    let line = detail ? `${step}  ${detail}` : step;
    if (line.length > width) line = `${line.slice(0, width - 1)}…`;
    out.write(`\r\x1b[2K${line}`);
  };
  return {
    onProgress: (event) => {
      if (event.kind === 'step') {
        step = `[${event.step}/${event.total}] ${event.instruction}`;
        detail = '';
        partial = '';
        stepOutput = [];
      } else {
        const lines = (partial + event.text).split('\n');
        partial = event.kind === 'output' ? (lines.pop() ?? '') : '';
        const shown = lines.map((l) => l.trim()).filter((l) => l !== '');
        stepOutput.push(...shown);
        if (stepOutput.length > 200) stepOutput = stepOutput.slice(-200);
        const last = shown.at(-1) ?? partial.trim();
        if (last) detail = last;
      }
      render();
    },
    finish: (failed) => {
      out.write('\r\x1b[2K');
      if (failed) {
        if (step) out.write(`${step}\n`);
        const tail = [...stepOutput, partial.trim()].filter((l) => l !== '').slice(-20);
        for (const line of tail) out.write(`  ${line}\n`);
      }
    },
  };
}
