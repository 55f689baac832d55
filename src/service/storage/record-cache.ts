// Records as last read from the database, by key: every invoke resolves its function (and an alias, a version) by
// reading records, and the query and the JSON parse were a measurable part of an invoke. The store that owns the
// table forgets a key on every write to it, so a read after a write reads the row again. Cached records are shared
// between readers, so they are frozen all the way down: one changed in place would change it for every reader.
export class RecordCache<T> {
  private readonly records = new Map<string, T>();

  /** The cached record, else `load()`'s (cached when there is one). */
  get(key: string, load: () => T | undefined): T | undefined {
    const cached = this.records.get(key);
    if (cached !== undefined) return cached;
    const loaded = load();
    if (loaded !== undefined) this.records.set(key, deepFreeze(loaded));
    return loaded;
  }

  forget(key: string): void {
    this.records.delete(key);
  }

  /** Forgets every key `matches` accepts (a function's versions or aliases, when the function goes). */
  forgetWhere(matches: (key: string) => boolean): void {
    for (const key of this.records.keys()) if (matches(key)) this.records.delete(key);
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
