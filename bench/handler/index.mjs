// The bench's function: as little work as a handler can do, plus the one log line a real handler writes, so the
// figures measure the runtime loop itself with its logging path (the telemetry pipe the bench gives) in use.
export const handler = async (event) => {
  console.log('invoke', event.n);
  return { ok: true, n: event.n };
};
