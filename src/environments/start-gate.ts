// How many environments may be starting at once. A burst of cold starts on a small machine otherwise starts every
// container and runtime at the same moment: each gets a sliver of the cores, all of them finish their init late
// together, and past Lambda's 10 s init limit many fail (measured on this project's 2-core machine: 50 at once,
// 29 Sandbox.Timedout). Let through a few at a time, each holding its slot until its init ends, and the same burst
// completes in about the same total time with every init short. Lambda itself scales a function gradually.
export class StartGate {
  private readonly limit: number;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.limit = Math.max(1, limit);
  }

  /** Waits for a slot; resolves the function that gives it back (idempotent). */
  async enter(): Promise<() => void> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = this.waiting.shift();
      if (next)
        next(); // the slot passes straight on
      else this.active--;
    };
  }

  get queued(): number {
    return this.waiting.length;
  }
}
