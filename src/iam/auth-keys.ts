// The access keys `lambkin serve --auth sigv4` accepts on the Lambda API, and whose they are: a keys file (--auth-keys),
// a JSON list of {accessKeyId, secretAccessKey, accountId, principalArn, policy?}, read once at start; or, without
// one, serve's own AWS credentials as the service account's root. The file is checked as a whole before serve
// listens, so a typo stops serve with the entry named instead of refusing every request later.
import { readFile } from 'node:fs/promises';
import type { PolicyJson } from './policy-authoriser.ts';
import { policyProblems } from './policy-authoriser.ts';
import { KeyRing, type KeyLookup } from './sigv4-verifier.ts';

/** A key's owner as the authoriser sees it. */
export interface KeyOwner {
  accountId: string;
  principalArn: string;
  /** The identity policy given with the key; none for serve's own credentials (a root). */
  identityPolicy?: PolicyJson;
}

export class AuthKeys {
  private readonly ring: KeyRing;
  private readonly policies = new Map<string, PolicyJson>();
  /** Where the keys came from, for serve's start line. */
  readonly source: string;

  constructor(source: string, ring: KeyRing = new KeyRing()) {
    this.source = source;
    this.ring = ring;
  }

  /** serve's own credentials (environment, else the profile), as `accountId`'s root. */
  static async fromServeCredentials(accountId: string, env: NodeJS.ProcessEnv = process.env): Promise<AuthKeys> {
    return new AuthKeys(`your own AWS credentials, as account ${accountId}'s root`, await KeyRing.fromServeCredentials(accountId, env));
  }

  /** The keys of a keys file; an Error naming the file and the entry when it is not one. */
  static async fromFile(path: string): Promise<AuthKeys> {
    let entries: unknown;
    try {
      entries = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new Error(`cannot read the keys file ${path}: ${(error as Error).message}`);
    }
    if (!Array.isArray(entries)) throw new Error(`the keys file ${path} must hold a JSON list of keys`);
    const keys = new AuthKeys(`the ${entries.length} key(s) in ${path}`);
    for (const [index, entry] of entries.entries()) {
      const problem = entryProblem(entry);
      if (problem) throw new Error(`the keys file ${path}, entry ${index}: ${problem}`);
      const { accessKeyId, secretAccessKey, accountId, principalArn, policy } = entry as KeyEntry;
      if (policy !== undefined) {
        const policyProblem = await policyProblems(policy);
        if (policyProblem) throw new Error(`the keys file ${path}, entry ${index} (${accessKeyId}): its policy is not a valid IAM policy: ${policyProblem}`);
      }
      keys.add(accessKeyId, { secretAccessKey, accountId, principalArn, ...(policy !== undefined ? { identityPolicy: policy } : {}) });
    }
    return keys;
  }

  add(accessKeyId: string, key: KeyOwner & { secretAccessKey: string }): this {
    this.ring.add(accessKeyId, { secretAccessKey: key.secretAccessKey, accountId: key.accountId, principalArn: key.principalArn });
    if (key.identityPolicy) this.policies.set(accessKeyId, key.identityPolicy);
    else this.policies.delete(accessKeyId);
    return this;
  }

  /** A KeyLookup for verifySigV4. */
  get lookup(): KeyLookup {
    return this.ring.lookup;
  }

  /** The identity policy given with a key; undefined for none. */
  identityPolicy(accessKeyId: string): PolicyJson | undefined {
    return this.policies.get(accessKeyId);
  }
}

interface KeyEntry {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
  principalArn: string;
  policy?: PolicyJson;
}

const PRINCIPAL_ARN = /^arn:aws[a-zA-Z-]*:(?:iam|sts)::(\d{12}):.+$/;

function entryProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'each key must be a JSON object';
  const fields = entry as Record<string, unknown>;
  for (const name of ['accessKeyId', 'secretAccessKey', 'accountId', 'principalArn']) {
    if (typeof fields[name] !== 'string' || fields[name] === '') return `${name} must be a non-empty string`;
  }
  if (!/^\d{12}$/.test(fields.accountId as string)) return `accountId must be 12 digits, not '${String(fields.accountId)}'`;
  const owner = PRINCIPAL_ARN.exec(fields.principalArn as string);
  if (!owner) return `principalArn must be an IAM ARN (arn:aws:iam::<account>:user/name, role/name or root), not '${String(fields.principalArn)}'`;
  if (owner[1] !== fields.accountId) return `principalArn ${String(fields.principalArn)} is not of account ${String(fields.accountId)}`;
  if (fields.policy !== undefined && (typeof fields.policy !== 'object' || fields.policy === null || Array.isArray(fields.policy))) {
    return 'policy must be an IAM policy document (a JSON object)';
  }
  return undefined;
}
