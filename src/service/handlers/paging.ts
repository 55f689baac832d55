// What the list operations share: MaxItems (50 when absent; each operation has its own ceiling and error type) and
// Markers, opaque to callers: base64url of the text naming the last item of the previous page.
import type { LambdaError } from '../lambda-error.ts';

const DEFAULT_MAX_ITEMS = 50;

/** MaxItems; `refuse` is the operation's error for a value outside 1..`limit`. */
export function parseMaxItems(value: string | null, limit: number, refuse: (value: string, field: string, rule: string) => LambdaError): number {
  if (value === null || value === '') return DEFAULT_MAX_ITEMS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > limit) throw refuse(value, 'maxItems', `Member must have value between 1 and ${limit}`);
  return n;
}

export const encodeMarker = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
export const decodeMarker = (marker: string) => Buffer.from(marker, 'base64url').toString('utf8');
