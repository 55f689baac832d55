// The Runtime API server: one per execution environment. See server.ts.
export { RuntimeApiServer } from './server.ts';
export { MAX_RESPONSE_BYTES } from './errors.ts';
export type * from './types.ts';
