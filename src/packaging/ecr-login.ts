// Amazon ECR's login: GetAuthorizationToken (through @aws-sdk/client-ecr and the standard AWS credential chain)
// gives a token that is base64 of `AWS:<password>`, valid 12 hours, for the registry at `proxyEndpoint`.
// The ECR API endpoint can be overridden (--ecr-endpoint, or LAMBKIN_ECR_ENDPOINT): a VPC endpoint, or a stand-in.
import { ECRClient, GetAuthorizationTokenCommand, type ECRClientConfig } from '@aws-sdk/client-ecr';
import type { RegistryAuth } from './registry-auth.ts';

/** The environment variable that overrides the ECR API endpoint, as --ecr-endpoint does. */
export const ECR_ENDPOINT_ENV = 'LAMBKIN_ECR_ENDPOINT';

const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** The account and region of an ECR registry host (`<account>.dkr.ecr.<region>.amazonaws.com[.cn]`), else undefined. */
export function parseEcrRegistry(registry: string): { account: string; region: string } | undefined {
  const match = ECR_HOST.exec(registry.toLowerCase());
  return match ? { account: match[1]!, region: match[2]! } : undefined;
}

export interface EcrLoginOptions {
  /** The region whose ECR API to ask: ECR addresses carry it (parseEcrRegistry). */
  region: string;
  /** The ECR API endpoint; default $LAMBKIN_ECR_ENDPOINT, else the SDK's own for the region. */
  endpoint?: string;
  /** Credentials; default the standard AWS chain (environment, profile, SSO, container and instance roles). */
  credentials?: ECRClientConfig['credentials'];
}

export interface EcrLogin {
  auth: RegistryAuth;
  /** Where the registry is, as ECR says it (`https://<account>.dkr.ecr.<region>.amazonaws.com`). */
  proxyEndpoint: string;
  expiresAt?: Date;
}

/** Failure of GetAuthorizationToken: the SDK's error name (CredentialsProviderError, AccessDeniedException...). */
export class EcrLoginError extends Error {
  readonly code = 'ECR_LOGIN';
}

export async function ecrLogin(options: EcrLoginOptions): Promise<EcrLogin> {
  const endpoint = options.endpoint ?? (process.env[ECR_ENDPOINT_ENV] || undefined);
  const client = new ECRClient({
    region: options.region,
    ...(endpoint ? { endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: 2,
  });
  let data;
  try {
    const response = await client.send(new GetAuthorizationTokenCommand({}));
    data = response.authorizationData?.[0];
  } catch (error) {
    const { name, message } = error as Error;
    throw new EcrLoginError(`ECR GetAuthorizationToken in ${options.region}${endpoint ? ` (at ${endpoint})` : ''} failed: ${name}: ${message}`);
  } finally {
    client.destroy();
  }
  if (!data?.authorizationToken || !data.proxyEndpoint) throw new EcrLoginError('ECR GetAuthorizationToken answered without an authorization token');
  const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new EcrLoginError('the ECR authorization token is not base64 of user:password');
  const serveraddress = data.proxyEndpoint.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  return {
    auth: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress },
    proxyEndpoint: data.proxyEndpoint,
    ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}),
  };
}
