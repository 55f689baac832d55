// Polling for what a test can only see after the fact (a file a function appends to, a queue, /metrics): read, check,
// and read again until the check holds, so a test waits as long as it must and no longer.

/** Polls `read` until `check` passes on its value (or `ms` pass: the check's last assertion error then). */
export type Eventually = <T>(read: () => Promise<T> | T, check: (value: T) => void, ms?: number) => Promise<T>;

/** An `eventually` that gives up after `defaultMs` unless told otherwise, reading every `intervalMs`. */
export function eventuallyWithin(defaultMs: number, intervalMs = 50): Eventually {
  return async (read, check, ms = defaultMs) => {
    const until = Date.now() + ms;
    for (;;) {
      const value = await read();
      try {
        check(value);
        return value;
      } catch (error) {
        if (Date.now() > until) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  };
}

export const eventually: Eventually = eventuallyWithin(10_000);
