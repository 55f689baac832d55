// What follows an alias change beyond the alias itself: provisioned concurrency configured on the alias follows it to
// the version (and routing weight) it now points to, and goes with it when it is deleted, as Lambda's does
// (test_lambda_provisioned_lifecycle: after DeleteAlias, its config is gone from ListProvisionedConcurrencyConfigs).
// An event-invoke config and a function URL config on the alias go when it is deleted. Called by UpdateAlias and DeleteAlias.
import type { AliasRecord, FunctionRecord } from '../function-record.ts';
import type { ServiceContext } from './context.ts';
import { forgetEventInvokeConfig } from './event-invoke-config.ts';
import { allocationOf, applyAllocation, configsOf, forgetProvisioned } from './provisioned-allocation.ts';

/** `alias` of the function whose $LATEST is `latest` was updated (`after`) or deleted (`after` undefined). */
export async function aliasChanged(context: ServiceContext, latest: FunctionRecord, before: AliasRecord, after?: AliasRecord): Promise<void> {
  // An event-invoke config on a deleted alias goes with it.
  if (!after) await forgetEventInvokeConfig(context, latest.name, before.name);
  // So does its function URL config (its URL stops answering).
  if (!after) await context.store.functionUrls.deleteAll(latest.name, before.name);
  // And its resource-based policy (a new alias of the same name starts without one).
  if (!after) await context.store.policies.deleteAll(latest.name, before.name);
  // The freshest $LATEST: the caller's may predate a config put meanwhile.
  const current = (await context.store.get(latest.name)) ?? latest;
  if (!configsOf(current)[before.name]) return;
  if (!after) {
    await forgetProvisioned(context, current, before.name, { [before.name]: before });
    return;
  }
  const was = await allocationOf(context, current, { [before.name]: before });
  await applyAllocation(context, current, was, await allocationOf(context, current, { [before.name]: after }));
}
