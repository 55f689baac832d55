// LambdaApiServer: the Lambda API over HTTP (node:http), as @aws-sdk/client-lambda and the AWS CLI speak it.
// Routing, body limits and error answers live here; each operation is a handler in handlers/.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { DEFAULT_IDENTITY, type ServiceIdentity } from './function-record.ts';
import type { FunctionStore } from './function-store.ts';
import { createFunction } from './handlers/create-function.ts';
import type { OperationHandler, ServiceContext } from './handlers/context.ts';
import { invoke, MAX_SYNC_PAYLOAD_BYTES } from './handlers/invoke.ts';
import { deleteFunction, getFunction, getFunctionConfiguration, listFunctions } from './handlers/read-functions.ts';
import { updateFunctionCode, updateFunctionConfiguration } from './handlers/update-function.ts';
import { readBody, sendError, sendResponse } from './http-io.ts';
import { listenTcp } from '../runtime-api/listen-tcp.ts';
import type { FunctionInvoker } from './invoker.ts';
import { LambdaError, requestTooLarge, serviceError, unknownOperation } from './lambda-error.ts';
import { matchRoute, type Operation } from './router.ts';

/** Lambda's limit on a control-plane request: a 50 MB zip, base64-encoded in JSON. */
export const MAX_CONTROL_PLANE_REQUEST_BYTES = 69_905_067;

const HANDLERS: Record<Operation, OperationHandler> = {
  CreateFunction: createFunction,
  ListFunctions: listFunctions,
  GetFunction: getFunction,
  GetFunctionConfiguration: getFunctionConfiguration,
  DeleteFunction: deleteFunction,
  UpdateFunctionCode: updateFunctionCode,
  UpdateFunctionConfiguration: updateFunctionConfiguration,
  Invoke: invoke,
};

/** The operation name Lambda uses in its RequestTooLargeException message. */
const LIMIT_NAMES: Partial<Record<Operation, string>> = { Invoke: 'InvokeFunction' };

export interface LambdaApiServerOptions {
  store: FunctionStore;
  invoker: FunctionInvoker;
  /** 127.0.0.1 by default. */
  host?: string;
  /** 0 (any free port) by default. */
  port?: number;
  /** The region and account in ARNs; us-east-1 and 123456789012 by default. */
  identity?: ServiceIdentity;
  /** Told about failures that are lambkin's own (answered as ServiceException). */
  onInternalError?: (error: unknown) => void;
}

export class LambdaApiServer {
  private readonly http: Server;
  private readonly sockets = new Set<Socket>();
  private readonly context: ServiceContext;
  private readonly host: string;
  private readonly port: number;
  private readonly onInternalError: (error: unknown) => void;
  private boundPort: number | undefined;

  constructor(options: LambdaApiServerOptions) {
    this.context = { store: options.store, invoker: options.invoker, identity: options.identity ?? DEFAULT_IDENTITY };
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.onInternalError = options.onInternalError ?? (() => {});
    // A synchronous invoke may run for the function's whole timeout (up to 15 minutes): no request timeout.
    this.http = createServer({ keepAlive: true, requestTimeout: 0 }, (req, res) => void this.handle(req, res));
    this.http.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Starts listening; resolves the base URL to give the SDK as `endpoint`. */
  async listen(): Promise<string> {
    this.boundPort = (await listenTcp(this.http, this.port, this.host)).port;
    return this.url;
  }

  get url(): string {
    if (this.boundPort === undefined) throw new Error('LambdaApiServer.listen() has not completed');
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.boundPort}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      const route = matchRoute(req.method ?? '', req.url ?? '/');
      if (!route) {
        req.resume();
        throw unknownOperation(req.method ?? '', new URL(req.url ?? '/', 'http://lambkin.invalid').pathname);
      }
      const limit = route.operation === 'Invoke' ? MAX_SYNC_PAYLOAD_BYTES : MAX_CONTROL_PLANE_REQUEST_BYTES;
      const body = await readBody(req, limit);
      if (body === undefined) throw requestTooLarge(limit, LIMIT_NAMES[route.operation] ?? route.operation);
      const response = await HANDLERS[route.operation](this.context, {
        functionName: route.functionName,
        query: route.query,
        headers: req.headers,
        body,
        requestId,
      });
      sendResponse(res, response, requestId);
    } catch (error) {
      if (!(error instanceof LambdaError)) this.onInternalError(error);
      if (res.headersSent) return void res.destroy();
      sendError(res, error instanceof LambdaError ? error : serviceError(`Internal error: ${String(error)}`), requestId);
    }
  }
}
