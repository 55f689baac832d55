// Environments are pooled per version: $LATEST's under the function's name (as before versions existed, so its
// metrics and `lambkin status` lines keep their names), a published version's under `name:N`. A name never holds a
// colon, so the two never meet. The pool retires a key's environments when its record's RevisionId changes, which
// only $LATEST's ever does: a version's environments run its frozen snapshot until the version is deleted.
import type { FunctionRecord } from '../service/function-record.ts';

export function environmentKey(fn: Pick<FunctionRecord, 'name' | 'version'>): string {
  return fn.version === undefined ? fn.name : `${fn.name}:${fn.version}`;
}
