// What follows an alias change beyond the alias itself: provisioned concurrency configured on the alias moves with it
// to the version it now points to (handlers/provisioned-concurrency.ts). Called by UpdateAlias and DeleteAlias.
import type { AliasRecord, FunctionRecord } from '../function-record.ts';
import type { ServiceContext } from './context.ts';

/** `alias` of the function whose $LATEST is `latest` was updated (`after`) or deleted (`after` undefined). */
export async function aliasChanged(_context: ServiceContext, _latest: FunctionRecord, _before: AliasRecord, _after?: AliasRecord): Promise<void> {
  // Provisioned concurrency per alias is being written: until then an alias holds none, so there is nothing to move.
}
