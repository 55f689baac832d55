// `lambkin serve --auth sigv4`: every Lambda API request must be signed (SigV4, service `lambda`) by a key serve
// accepts (src/iam/sigv4-verifier.ts re-signs it with the SDK's signer), and its signer must be allowed the
// operation's IAM action on the resource it names (src/iam/policy-authoriser.ts: the key's identity policy and the
// function's resource-based policy). lambkin's own endpoints (/lambkin/status, /metrics) are not the Lambda API and
// are not checked; function URLs are authorised as AWS does (functionUrlAllowed), called by the URL server.
import type { IncomingMessage } from 'node:http';
import type { AuthKeys } from '../iam/auth-keys.ts';
import { type Caller, isAccountRoot, PolicyAuthoriser, type Target } from '../iam/policy-authoriser.ts';
import { policyDocument, policyQualifier, type PolicyStore } from '../iam/resource-policy.ts';
import { type SigV4Result, signedRequestOf, verifySigV4 } from '../iam/sigv4-verifier.ts';
import { functionArn, type ServiceIdentity } from '../runtime-api/function-arn.ts';
import type { IamCaller } from '../urls/url-auth.ts';
import { parseFunctionName, resolveQualifier } from './function-name.ts';
import { parseJsonObject } from './http-io.ts';
import { LambdaError } from './lambda-error.ts';
import type { Operation, RouteMatch } from './router.ts';

/**
 * The IAM action each operation needs: `lambda:<Operation>`, but for these (AWS's Lambda actions table). The
 * deprecated InvokeAsync is taken as an invoke: IAM also lists a lambda:InvokeAsync action, but a caller allowed to
 * invoke is not refused the older call here.
 */
const ACTION_OF: Partial<Record<Operation, string>> = {
  Invoke: 'lambda:InvokeFunction',
  InvokeAsync: 'lambda:InvokeFunction',
  InvokeWithResponseStream: 'lambda:InvokeFunction',
  GetLayerVersionByArn: 'lambda:GetLayerVersion',
};

export const actionOf = (operation: Operation): string => ACTION_OF[operation] ?? `lambda:${operation}`;

/** Operations on no one resource (IAM's `*`): listing, account settings, creating a mapping. */
const ANY_RESOURCE = new Set<Operation>([
  'ListFunctions',
  'GetAccountSettings',
  'ListLayers',
  'ListLayerVersions',
  'CreateEventSourceMapping',
  'ListEventSourceMappings',
]);

/** Operations that take ?Qualifier=: their resource is the qualified function, and so is its resource policy. */
const QUALIFIED = new Set<Operation>([
  'Invoke',
  'InvokeWithResponseStream',
  'GetFunction',
  'GetFunctionConfiguration',
  'DeleteFunction',
  'AddPermission',
  'GetPolicy',
  'RemovePermission',
  'GetProvisionedConcurrencyConfig',
  'PutProvisionedConcurrencyConfig',
  'DeleteProvisionedConcurrencyConfig',
  'PutFunctionEventInvokeConfig',
  'UpdateFunctionEventInvokeConfig',
  'GetFunctionEventInvokeConfig',
  'DeleteFunctionEventInvokeConfig',
  'CreateFunctionUrlConfig',
  'GetFunctionUrlConfig',
  'UpdateFunctionUrlConfig',
  'DeleteFunctionUrlConfig',
]);

/** The anonymous stand-in's own policy (see functionUrlAllowed). */
const ALLOW_ANYTHING = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

const refusal = (status: number, type: string, message: string) => new LambdaError(status, type, message);

export class ApiAuth {
  private readonly keys: AuthKeys;
  private readonly identity: ServiceIdentity;
  private readonly policies: () => PolicyStore;
  private readonly authoriser = new PolicyAuthoriser();

  constructor(keys: AuthKeys, identity: ServiceIdentity, policies: () => PolicyStore) {
    this.keys = keys;
    this.identity = identity;
    this.policies = policies;
  }

  /**
   * Whether a function URL's request may invoke: `lambda:InvokeFunctionUrl` on the URL's function (qualified as the URL
   * is), with lambda:FunctionUrlAuthType set to the URL's AuthType, as AWS decides it. AuthType NONE: the request is
   * anonymous, so the function's resource policy alone decides (the public statement AWS requires: Principal `*`,
   * condition FunctionUrlAuthType NONE). AWS_IAM: the signer's identity policy and the resource policy, as for the API.
   */
  async functionUrlAllowed(url: { functionName: string; qualifier?: string; authType: 'NONE' | 'AWS_IAM' }, signer?: IamCaller): Promise<boolean> {
    const { accountId } = this.identity;
    const stored = await this.policies().get(url.functionName, policyQualifier(url.qualifier));
    const target: Target = {
      arn: functionArn(this.identity, url.functionName, url.qualifier),
      accountId,
      ...(stored ? { resourcePolicy: { revisionId: stored.revisionId, document: { ...policyDocument(stored.statements) } } } : {}),
    };
    let caller: Caller;
    if (signer) {
      const identityPolicy = this.keys.identityPolicy(signer.accessKey);
      caller = { accessKeyId: signer.accessKey, accountId: signer.accountId, principalArn: signer.userArn, ...(identityPolicy ? { identityPolicy } : {}) };
    } else {
      // Anonymous stands in as a principal of an account lambkin does not serve, its own policy allowing anything: what
      // is left to decide is the resource policy's, where only Principal `*` names it.
      const outsider = accountId === '000000000000' ? '000000000001' : '000000000000';
      caller = { accessKeyId: '', accountId: outsider, principalArn: `arn:aws:iam::${outsider}:user/anonymous`, identityPolicy: ALLOW_ANYTHING };
    }
    const decision = await this.authoriser.decide(caller, 'lambda:InvokeFunctionUrl', target, { 'lambda:FunctionUrlAuthType': url.authType });
    return decision.allowed;
  }

  /** A request lambkin routes to no operation: only its signature's absence is told first, as AWS does. */
  checkUnrouted(req: IncomingMessage): void {
    if (!req.headers.authorization) throw refusal(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  }

  /**
   * Throws AWS's refusal (a LambdaError) unless `req` is signed by an accepted key allowed `route`'s action. Returns a
   * promise only when there is something to wait for (a signing key to derive, a policy to read): serve's own root
   * key, the common caller, is decided at once, and the invoke path keeps its turn of the event loop.
   */
  check(req: IncomingMessage, route: RouteMatch, body: Buffer): Promise<void> | undefined {
    const verified = verifySigV4(signedRequestOf(req, body), this.keys.lookup);
    return verified instanceof Promise ? verified.then((result) => this.authorise(result, route, body)) : this.authorise(verified, route, body);
  }

  /** Whether the verified signer may do what `route` asks: throws AWS's refusal unless it may. */
  private authorise(verified: SigV4Result, route: RouteMatch, body: Buffer): Promise<void> | undefined {
    if (!verified.ok) throw refusal(verified.error.status, verified.error.type, verified.error.message);
    const { accessKeyId, accountId, principalArn } = verified.identity;
    const identityPolicy = this.keys.identityPolicy(accessKeyId);
    // The service account's root, with no policy of its own in the keys file, may do anything in its account (IAM's
    // rule for a root), and a resource policy cannot refuse it (AddPermission writes only Allow statements): nothing
    // is left to decide. This is serve's default caller (--auth sigv4 without --auth-keys: your own keys, as root).
    if (!identityPolicy && accountId === this.identity.accountId && isAccountRoot(principalArn, accountId)) return undefined;
    return this.decide({ accessKeyId, accountId, principalArn, ...(identityPolicy ? { identityPolicy } : {}) }, route, body);
  }

  /** The policies' answer for a caller that is not the account's unrestricted root. */
  private async decide(caller: Caller, route: RouteMatch, body: Buffer): Promise<void> {
    const { accountId } = caller;
    const action = actionOf(route.operation);
    const { target, fn } = this.resourceOf(route, body);
    // A caller of the function's own account whose identity policy allows the action needs no resource policy, and
    // none can refuse it: AddPermission writes only Allow statements. So the policy is read (a query on every
    // invoke) only when it can change the answer.
    if (fn && accountId === this.identity.accountId && (await this.authoriser.decide(caller, action, target)).allowed) return;
    const stored = fn ? await this.policies().get(fn.name, policyQualifier(fn.qualifier)) : undefined;
    const withPolicy: Target = stored
      ? { ...target, resourcePolicy: { revisionId: stored.revisionId, document: { ...policyDocument(stored.statements) } } }
      : target;
    const decision = await this.authoriser.decide(caller, action, withPolicy);
    if (!decision.allowed) throw refusal(403, 'AccessDeniedException', decision.message);
  }

  /** The resource `route` acts on, as IAM names it, and the function (and qualifier) when it is one. */
  private resourceOf(route: RouteMatch, body: Buffer): { target: Target; fn?: { name: string; qualifier?: string } } {
    const { region, accountId } = this.identity;
    const arnOf = (kind: string) => ({ arn: `arn:aws:lambda:${region}:${accountId}:${kind}`, accountId });
    const op = route.operation;
    if (ANY_RESOURCE.has(op)) return { target: { arn: '*', accountId } };
    if (route.uuid !== undefined) return { target: arnOf(`event-source-mapping:${route.uuid}`) };
    if (route.resource !== undefined) return { target: { arn: route.resource, accountId } };
    if (op === 'GetLayerVersionByArn') return { target: { arn: route.query.get('Arn') ?? '*', accountId } };
    if (route.layerName !== undefined) {
      const layer = route.layerName.startsWith('arn:') ? route.layerName : arnOf(`layer:${route.layerName}`).arn;
      return { target: { arn: route.layerVersion !== undefined ? `${layer}:${route.layerVersion}` : layer, accountId } };
    }
    const named = op === 'CreateFunction' ? createdFunctionName(body) : route.functionName;
    if (named === undefined) return { target: { arn: '*', accountId } };
    const fn = functionRef(named, QUALIFIED.has(op) ? route.query.get('Qualifier') : null);
    if (!fn) return { target: arnOf(`function:${named}`) };
    return { target: { arn: functionArn(this.identity, fn.name, fn.qualifier), accountId }, fn };
  }
}

/** CreateFunction names its function in the body; a body that names none is refused later, by the operation. */
function createdFunctionName(body: Buffer): string | undefined {
  try {
    const name = parseJsonObject(body).FunctionName;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The function and qualifier a FunctionName (and ?Qualifier=) name; undefined for one the operation will refuse. */
function functionRef(value: string, queryQualifier: string | null): { name: string; qualifier?: string } | undefined {
  try {
    const ref = parseFunctionName(value);
    const qualifier = resolveQualifier(ref, queryQualifier);
    return qualifier === undefined ? { name: ref.name } : { name: ref.name, qualifier };
  } catch {
    return undefined;
  }
}
