// What a FunctionName and Qualifier name, resolved as Lambda resolves them: $LATEST (no qualifier, or `$LATEST`), a
// published version (digits), or an alias (anything else), which stands for the version it points to. The control
// plane's reads and Invoke resolve through here, so both find the same version and say the same 404.
import type { AliasRecord, FunctionRecord, ServiceIdentity } from '../service/function-record.ts';
import { functionArn } from '../service/function-record.ts';
import { parseFunctionName, resolveQualifier } from '../service/function-name.ts';
import { functionNotFound } from '../service/lambda-error.ts';
import type { FunctionStore } from '../service/storage/function-store.ts';

export const LATEST = '$LATEST';

/** A published version's qualifier: digits only (an alias name never is). */
export const isVersionNumber = (qualifier: string) => /^\d+$/.test(qualifier);

export interface ResolvedFunction {
  /** The function's $LATEST record: what holds its function-wide settings (reserved concurrency, tags). */
  latest: FunctionRecord;
  /** The record of the version the request names: $LATEST's, a published version's, or the alias's version's. */
  fn: FunctionRecord;
  /** That version: `$LATEST` or its number. */
  version: string;
  /** The qualifier the request named (from the FunctionName or ?Qualifier=); absent when none. */
  qualifier?: string;
  /** The alias the qualifier names, when it names one. */
  alias?: AliasRecord;
}

export interface ResolveOptions {
  /**
   * The qualifier an unqualified not-found message names: Invoke's and PutFunctionConcurrency's 404 say `...:$LATEST`
   * for a function that does not exist, the other operations the bare ARN.
   */
  notFoundQualifier?: string;
}

/** Resolves `functionName` (any form Lambda accepts) and `?Qualifier=`; 404 ResourceNotFoundException in Lambda's words. */
export async function resolveFunction(
  home: { store: FunctionStore; identity: ServiceIdentity },
  functionName: string,
  queryQualifier: string | null,
  options: ResolveOptions = {},
): Promise<ResolvedFunction> {
  const ref = parseFunctionName(functionName);
  const qualifier = resolveQualifier(ref, queryQualifier);
  const notFound = () => functionNotFound(functionArn(home.identity, ref.name, qualifier ?? options.notFoundQualifier));
  const latest = await home.store.get(ref.name);
  if (!latest) throw notFound();
  const named = qualifier === undefined ? {} : { qualifier };
  if (qualifier === undefined || qualifier === LATEST) return { latest, fn: latest, version: LATEST, ...named };
  if (isVersionNumber(qualifier)) {
    const fn = await home.store.getVersion(ref.name, Number(qualifier));
    if (!fn) throw notFound();
    return { latest, fn, version: qualifier, ...named };
  }
  const alias = await home.store.aliases.get(ref.name, qualifier);
  if (!alias) throw notFound();
  const fn = await versionRecord(home.store, latest, alias.functionVersion);
  // An alias always points to a version that exists: a version an alias names cannot be deleted.
  if (!fn) throw notFound();
  return { latest, fn, version: alias.functionVersion, qualifier, alias };
}

/** The record of `version` of the function whose $LATEST is `latest`. */
export async function versionRecord(store: FunctionStore, latest: FunctionRecord, version: string): Promise<FunctionRecord | undefined> {
  return version === LATEST ? latest : store.getVersion(latest.name, Number(version));
}

/**
 * The version an invoke through `alias` runs: its additional version with the probability its weight gives, else its
 * own, chosen afresh for each invoke as Lambda does. `random` is in [0, 1).
 */
export function routedVersion(alias: AliasRecord, random: number = Math.random()): string {
  const [extra] = Object.entries(alias.additionalVersionWeights ?? {});
  if (extra && random < extra[1]) return extra[0];
  return alias.functionVersion;
}
