// The Lambda API service: the HTTP server, the function registry and the invoker interface it runs through.
export { LambdaApiServer, type LambdaApiServerOptions } from './server.ts';
export { SqliteFunctionStore, type FunctionStore } from './storage/function-store.ts';
export { SqliteLayerStore, type LayerStore, type LayerVersionRecord } from './storage/layer-store.ts';
export type { FunctionInvoker, InvokeCall, InvokeResult } from './invoker.ts';
export type { FunctionRecord, ImageConfig, ServiceIdentity } from './function-record.ts';
export { DEFAULT_IDENTITY, functionArn } from './function-record.ts';
export { LambdaError } from './lambda-error.ts';
