// Which versions' environments the provisioned concurrency configs keep warm, and how many each. A config names a
// published version or an alias; an alias's environments are its version's (split with its additional version by
// the routing weight, as Lambda splits them). The configs live on $LATEST (function-wide); the pool is told the
// per-version totals, so a change (a config put or deleted, an alias moved or deleted, a restart) is one
// recomputation and a provision() call per version whose total changed.
import { environmentKey } from '../../invocation/environment-key.ts';
import { isVersionNumber, LATEST, versionRecord } from '../../invocation/resolve-function.ts';
import type { AliasRecord, FunctionRecord, ProvisionedConcurrencyRecord } from '../function-record.ts';
import type { ProvisionedStatus } from '../../environments/provisioned-concurrency.ts';
import type { StatusFunctionInput } from '../status.ts';
import type { ServiceContext } from './context.ts';

/** Environments per version (`$LATEST` or a number). */
export type Allocation = Map<string, number>;

export function configsOf(latest: FunctionRecord): Record<string, ProvisionedConcurrencyRecord> {
  return latest.provisionedConcurrencyConfigs ?? {};
}

/** Σ of the function's configs, leaving out `except`'s (the one being replaced). */
export function totalProvisioned(latest: FunctionRecord, except?: string): number {
  let total = 0;
  for (const [qualifier, config] of Object.entries(configsOf(latest))) if (qualifier !== except) total += config.requested;
  return total;
}

/**
 * How `requested` environments for an alias are spread: its additional version gets its weight's share (rounded
 * down), its own version the rest.
 */
export function aliasShares(alias: Pick<AliasRecord, 'functionVersion' | 'additionalVersionWeights'>, requested: number): [string, number][] {
  const [extra] = Object.entries(alias.additionalVersionWeights ?? {});
  const extraShare = extra ? Math.floor(requested * extra[1]) : 0;
  const shares: [string, number][] = [[alias.functionVersion, requested - extraShare]];
  if (extra && extraShare > 0) shares.push([extra[0], extraShare]);
  return shares;
}

/**
 * The versions `latest`'s configs provision. `aliases` overrides the store's aliases by name (undefined: deleted),
 * to compute the allocation before or after an alias change.
 */
export async function allocationOf(
  context: ServiceContext,
  latest: FunctionRecord,
  aliases: Record<string, AliasRecord | undefined> = {},
): Promise<Allocation> {
  const allocation: Allocation = new Map();
  const add = (version: string, n: number) => allocation.set(version, (allocation.get(version) ?? 0) + n);
  for (const [qualifier, config] of Object.entries(configsOf(latest))) {
    if (isVersionNumber(qualifier)) {
      add(qualifier, config.requested);
      continue;
    }
    const alias = qualifier in aliases ? aliases[qualifier] : await context.store.aliases.get(latest.name, qualifier);
    if (!alias) continue;
    for (const [version, n] of aliasShares(alias, config.requested)) add(version, n);
  }
  return allocation;
}

/** Tells the pool each version's new total where it differs from `before` (empty at a start: provisions them all). */
export async function applyAllocation(context: ServiceContext, latest: FunctionRecord, before: Allocation, after: Allocation): Promise<void> {
  const { invoker } = context;
  if (!invoker.provision) return;
  for (const version of new Set([...before.keys(), ...after.keys()])) {
    const requested = after.get(version) ?? 0;
    if (requested === (before.get(version) ?? 0)) continue;
    // A deleted version's record is gone; its key is all the pool needs to stop its provisioned environments.
    invoker.provision((await versionRecord(context.store, latest, version)) ?? { ...latest, version }, requested);
  }
}

/**
 * The config on `qualifier` (a version or an alias) goes, with what it provisioned: for DeleteProvisionedConcurrencyConfig,
 * and for deleting the version or alias it names (DeleteFunction with a Qualifier, DeleteAlias; call it once the
 * version or alias is deleted, passing a deleted alias as `deletedAliases` so its environments are found). Returns
 * `latest` as saved (unchanged when there was no such config).
 */
export async function forgetProvisioned(
  context: ServiceContext,
  latest: FunctionRecord,
  qualifier: string,
  deletedAliases: Record<string, AliasRecord> = {},
): Promise<FunctionRecord> {
  const configs = configsOf(latest);
  if (!(qualifier in configs)) return latest;
  const before = await allocationOf(context, latest, deletedAliases);
  const { [qualifier]: _dropped, ...rest } = configs;
  const { provisionedConcurrencyConfigs: _all, ...bare } = latest;
  const saved: FunctionRecord = Object.keys(rest).length > 0 ? { ...bare, provisionedConcurrencyConfigs: rest } : bare;
  if (!(await context.store.update(saved))) return latest;
  await applyAllocation(context, saved, before, await allocationOf(context, saved));
  return saved;
}

/** The live counts of a config: its versions' environments, up to the share it asked of each. */
export async function configStatus(
  context: ServiceContext,
  latest: FunctionRecord,
  qualifier: string,
  requested: number,
): Promise<ProvisionedStatus | undefined> {
  const status = context.invoker.provisionedStatus;
  if (!status) return undefined;
  let shares: [string, number][] = [[qualifier, requested]];
  if (!isVersionNumber(qualifier)) {
    const alias = await context.store.aliases.get(latest.name, qualifier);
    if (!alias) return undefined;
    shares = aliasShares(alias, requested);
  }
  let allocated = 0;
  let available = 0;
  let failed: ProvisionedStatus | undefined;
  for (const [version, share] of shares) {
    const live = status.call(context.invoker, environmentKey({ name: latest.name, ...(version === LATEST ? {} : { version }) }));
    if (!live) continue;
    allocated += Math.min(live.allocated, share);
    available += Math.min(live.available, share);
    if (live.status === 'FAILED') failed = live;
  }
  if (failed) return { ...failed, requested, allocated, available };
  return { requested, allocated, available, status: allocated >= requested ? 'READY' : 'IN_PROGRESS' };
}

/**
 * A record from before versions holds its config on $LATEST, which Lambda refuses and lambkin can no longer show or
 * delete: it is removed, and `warn` is told the function, the number and how to configure it again.
 */
export async function migrateLegacyProvisioned(context: ServiceContext, latest: FunctionRecord, warn: (message: string) => void): Promise<FunctionRecord> {
  const legacy = latest.provisionedConcurrency;
  if (!legacy) return latest;
  const { provisionedConcurrency: _legacy, ...rest } = latest;
  if (!(await context.store.update(rest))) return latest;
  warn(
    `function ${latest.name}: its provisioned concurrency (${legacy.requested}) was configured on $LATEST, which this data dir's ` +
      'older lambkin allowed; Lambda allows provisioned concurrency only on a published version or an alias, so lambkin removed it. ' +
      `To restore it: aws lambda publish-version --function-name ${latest.name}, then aws lambda put-provisioned-concurrency-config ` +
      `--function-name ${latest.name} --qualifier <the version (or an alias of it)> --provisioned-concurrent-executions ${legacy.requested}`,
  );
  return rest;
}

/** `lambkin status`'s rows for the versions `latest`'s configs provision, under their pool keys (`name:N`). */
export async function provisionedVersions(context: ServiceContext, latest: FunctionRecord): Promise<StatusFunctionInput[]> {
  const rows: StatusFunctionInput[] = [];
  const allocation = await allocationOf(context, latest);
  for (const [version, requested] of [...allocation].sort(([a], [b]) => Number(a) - Number(b))) {
    const record = await versionRecord(context.store, latest, version);
    const byAliases = [];
    for (const qualifier of Object.keys(configsOf(latest))) {
      if (isVersionNumber(qualifier)) continue;
      const alias = await context.store.aliases.get(latest.name, qualifier);
      if (alias && (alias.functionVersion === version || version in (alias.additionalVersionWeights ?? {}))) byAliases.push(qualifier);
    }
    rows.push({
      name: environmentKey({ name: latest.name, ...(version === LATEST ? {} : { version }) }),
      memorySize: (record ?? latest).memorySize,
      provisionedConcurrency: requested,
      ...(byAliases.length > 0 ? { provisionedByAliases: byAliases.sort() } : {}),
    });
  }
  return rows;
}
