// The Docker engine's failures as dockerode reports them, read the same way by every module that talks to the engine
// (environments, packaging, the CLI): its HTTP status, its own words, and whether anything answered at all.
/** The HTTP status of a docker-modem error (404 no such image/container, 409 conflict), if it has one. */
export function engineStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The engine's own words for an error, without docker-modem's "(HTTP code 404) no such container -" prefix. */
export function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === 'string') return json.message;
  return error instanceof Error ? error.message : String(error);
}

/** Errors that mean no engine answers at all (socket missing, refused, reset). */
export function isEngineUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EACCES' || code === 'EPIPE';
}

/** What every command says when it needs the engine and none answers: what it could not do, why, and the way out. */
export function noEngineMessage(action: string, error: unknown): string {
  return `cannot ${action} without a Docker engine (${engineMessage(error)}); start Docker, or set DOCKER_HOST`;
}
