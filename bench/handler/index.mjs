// The bench's function: as little work as a handler can do, so the figures measure the runtime loop itself.
export const handler = async (event) => ({ ok: true, n: event.n });
