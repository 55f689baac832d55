// An EnvironmentBackend that gives each environment it starts the function's execution-role credentials, resolved
// by a FunctionCredentialSource (src/iam/function-credentials.ts) just before the engine starts it: every
// environment gets its own (a fresh session, the host's current keys), and a source's refusal fails the start, so
// the invoke that asked is answered with it.
import type { FunctionCredentialSource } from '../iam/function-credentials.ts';
import type { Environment, EnvironmentBackend, EnvironmentSpec } from './backend.ts';

export class CredentialedBackend implements EnvironmentBackend {
  private readonly engine: EnvironmentBackend;
  private readonly source: FunctionCredentialSource;

  constructor(engine: EnvironmentBackend, source: FunctionCredentialSource) {
    this.engine = engine;
    this.source = source;
  }

  async start(spec: EnvironmentSpec): Promise<Environment> {
    const credentials = await this.source.credentialsFor(spec);
    return this.engine.start(credentials ? { ...spec, credentials } : spec);
  }

  async close(): Promise<void> {
    this.source.close();
    await this.engine.close();
  }
}
