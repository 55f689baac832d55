// Where a function's execution-role credentials come from (`lambkin serve --function-credentials`): marked
// placeholders (`none`, the default), the host's default AWS credential chain (`host`, what SAM CLI hands its
// functions), or STS AssumeRole on the function's Role (`assume-role`, what Lambda itself does). They are resolved
// each time an environment starts, so rotated host keys and fresh sessions reach the next environment; the pool
// retires an environment before credentials that expire do (pool.ts).
//
// Secrets go only into the environment's variables: no message here carries them, and nothing here logs.
import { AssumeRoleCommand, type AssumeRoleCommandOutput, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { EnvironmentCredentials, EnvironmentSpec } from '../environments/backend.ts';
import { LambdaEnvironmentError } from '../environments/errors.ts';

export const FUNCTION_CREDENTIALS_MODES = ['none', 'host', 'assume-role'] as const;
export type FunctionCredentialsMode = (typeof FUNCTION_CREDENTIALS_MODES)[number];

/** Lambda's answer to an invoke of a function whose execution role it cannot assume. */
export const ROLE_CANNOT_BE_ASSUMED = 'The role defined for the function cannot be assumed by Lambda.';

/** What an environment's credentials are resolved for: its function and the function's execution role. */
export type CredentialsSubject = Pick<EnvironmentSpec, 'functionName' | 'role'>;

export interface FunctionCredentialSource {
  readonly mode: FunctionCredentialsMode;
  /**
   * Credentials for one new environment; undefined for the placeholders. Rejects with a LambdaEnvironmentError
   * (the invoke's answer) when there are none to be had.
   */
  credentialsFor(subject: CredentialsSubject): Promise<EnvironmentCredentials | undefined>;
  /** Releases the STS client's sockets. */
  close(): void;
}

export interface FunctionCredentialOptions {
  /** The region STS is asked in (its regional endpoint), unless AWS_ENDPOINT_URL_STS names another. */
  region: string;
  /** Told why STS refused a role (its error code and message: never a secret), for serve's log. */
  onRefused?: (subject: CredentialsSubject, reason: string) => void;
  /** How long one STS call may take, ms; STS_REQUEST_TIMEOUT_MS by default. */
  stsTimeoutMs?: number;
}

/**
 * How long one STS call may take. STS answers in well under a second; an endpoint that does not answer fails the
 * invoke after this rather than holding it.
 */
export const STS_REQUEST_TIMEOUT_MS = 10_000;

export function functionCredentialSource(mode: FunctionCredentialsMode, options: FunctionCredentialOptions): FunctionCredentialSource {
  switch (mode) {
    case 'none':
      return { mode, credentialsFor: async () => undefined, close: () => {} };
    case 'host':
      return { mode, credentialsFor: (subject) => hostCredentials(subject), close: () => {} };
    case 'assume-role':
      return new AssumeRoleCredentials(options);
  }
}

/** The host's default chain, asked afresh: environment, profile (SSO, process, role), container and instance roles. */
async function hostCredentials(subject: CredentialsSubject): Promise<EnvironmentCredentials> {
  let identity: Awaited<ReturnType<ReturnType<typeof defaultProvider>>>;
  try {
    identity = await defaultProvider()();
  } catch (error) {
    throw new LambdaEnvironmentError(
      'ServiceException',
      `lambkin found no AWS credentials on this host for function ${subject.functionName} (--function-credentials host): ${(error as Error).message}`,
    );
  }
  return {
    accessKeyId: identity.accessKeyId,
    secretAccessKey: identity.secretAccessKey,
    ...(identity.sessionToken ? { sessionToken: identity.sessionToken } : {}),
    ...(identity.expiration ? { expiresAt: identity.expiration.getTime() } : {}),
  };
}

/**
 * STS AssumeRole on the function's Role, one session per environment, named after the function as Lambda names
 * its sessions (arn:aws:sts::…:assumed-role/<role>/<function>). The STS endpoint and the caller's credentials are
 * the SDK's standard settings (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile): real AWS or LocalStack.
 */
class AssumeRoleCredentials implements FunctionCredentialSource {
  readonly mode = 'assume-role' as const;
  private readonly sts: STSClient;
  private readonly onRefused: FunctionCredentialOptions['onRefused'];

  constructor(options: FunctionCredentialOptions) {
    const timeoutMs = options.stsTimeoutMs ?? STS_REQUEST_TIMEOUT_MS;
    this.sts = new STSClient({
      region: options.region,
      // One attempt: a refusal will not change on retry, and a dead endpoint must fail the invoke, not stall it.
      maxAttempts: 1,
      // Without throwOnRequestTimeout the handler only warns, and a silent endpoint holds the invoke for good.
      requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
    });
    this.onRefused = options.onRefused;
  }

  async credentialsFor(subject: CredentialsSubject): Promise<EnvironmentCredentials> {
    if (!subject.role) throw new LambdaEnvironmentError('InvalidParameterValueException', ROLE_CANNOT_BE_ASSUMED);
    let answer: AssumeRoleCommandOutput;
    try {
      answer = await this.sts.send(new AssumeRoleCommand({ RoleArn: subject.role, RoleSessionName: roleSessionName(subject.functionName) }));
    } catch (error) {
      if (error instanceof STSServiceException || (error as { name?: string }).name === 'CredentialsProviderError') {
        this.onRefused?.(subject, `${error instanceof STSServiceException ? error.name : 'no credentials to call STS with'}: ${(error as Error).message}`);
        throw new LambdaEnvironmentError('InvalidParameterValueException', ROLE_CANNOT_BE_ASSUMED);
      }
      // STS could not be reached (refused connection, timeout): lambkin's problem, not the role's.
      throw new LambdaEnvironmentError(
        'ServiceException',
        `lambkin could not reach STS to assume the role of function ${subject.functionName}: ${(error as Error).message}`,
      );
    }
    const credentials = answer.Credentials;
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
      throw new LambdaEnvironmentError('ServiceException', `STS answered AssumeRole for function ${subject.functionName} without credentials`);
    }
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      ...(credentials.SessionToken ? { sessionToken: credentials.SessionToken } : {}),
      ...(credentials.Expiration ? { expiresAt: credentials.Expiration.getTime() } : {}),
    };
  }

  close(): void {
    this.sts.destroy();
  }
}

/**
 * The function's name, as Lambda's own sessions are named; STS wants 2 to 64 of [\w+=,.@-], which a function name
 * (letters, digits, - and _, at most 64) already is, except a one-letter one.
 */
export function roleSessionName(functionName: string): string {
  return functionName.length >= 2 ? functionName.slice(0, 64) : `lambkin-${functionName}`;
}
