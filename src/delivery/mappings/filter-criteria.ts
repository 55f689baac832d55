// Lambda's event filtering (docs: invocation-eventfiltering): which records of a batch an event source mapping hands
// to its function. The control plane checks FilterCriteria when a mapping is created or updated
// (filterCriteriaError); a poller compiles it once and asks each record (compileFilterCriteria). Records that match
// no filter never reach the function (for SQS they are deleted).
//
// What a poller passes as `filterable`: the record as the function would see it, with its data key replaced by the
// data itself, so a pattern's metadata keys and data keys both resolve:
//   SQS:     the record with `body` JSON.parse'd when it is JSON, else left as the string
//            (`{"body": {"a": ["x"]}}` then matches no plain-text body, and `{"body": ["x"]}` no JSON one, as in AWS).
//   Kinesis: the record with `data` base64-decoded and JSON.parse'd (left a string when it is not JSON).
// Pattern keys are read from the top of that object: `{"messageAttributes": ..., "body": {...}}`.

import { type AnythingBut, type Matcher, type PatternNode, parsePattern } from './filter-pattern-syntax.ts';

/** Lambda's default quota of filters per mapping (docs: "up to five different filters"; raisable to 10 on request). */
export const MAX_FILTERS = 5;

/** AWS's message for every malformed Pattern (AWS-recorded in LocalStack's ESM snapshots). */
export const INVALID_FILTER_PATTERN = 'Invalid filter pattern definition.';

// NOT AWS-recorded: no snapshot or doc we could find quotes the text AWS gives for a sixth filter (the docs say only
// "Lambda will return an error"). Replace it when a recording turns up.
export const TOO_MANY_FILTERS = `Invalid filter criteria: the number of filters exceeds the maximum of ${MAX_FILTERS}.`;

export interface FilterCriteria {
  Filters?: { Pattern?: string }[];
}

/** Undefined when the criteria are acceptable; otherwise the InvalidParameterValueException message to answer. */
export function filterCriteriaError(criteria: FilterCriteria | undefined): string | undefined {
  const filters = criteria?.Filters ?? [];
  if (filters.length > MAX_FILTERS) return TOO_MANY_FILTERS;
  for (const filter of filters) {
    if (parsePattern(filter?.Pattern) === undefined) return INVALID_FILTER_PATTERN;
  }
  return undefined;
}

/**
 * A predicate over filterable records (see the header for their shape): true when any filter matches, or when there
 * are no filters. Throws on criteria that filterCriteriaError refuses; check them first.
 */
export function compileFilterCriteria(criteria: FilterCriteria | undefined): (filterable: unknown) => boolean {
  const problem = filterCriteriaError(criteria);
  if (problem !== undefined) throw new Error(problem);
  const patterns = (criteria?.Filters ?? []).map((filter) => parsePattern(filter.Pattern) as PatternNode);
  if (patterns.length === 0) return () => true;
  return (filterable) => patterns.some((pattern) => matchesNode(pattern, [filterable]));
}

// Matching follows EventBridge: a key path reaches every value under it, an array in the event standing for each of
// its elements (at any depth), and each key of a pattern is met on its own (two keys may be met by different elements
// of one array). A leaf compares only scalars (string, number, boolean, null); an object at a leaf's path is no value.

function matchesNode(pattern: PatternNode, candidates: unknown[]): boolean {
  return Object.entries(pattern).every(([key, child]) => {
    const reached = spread(candidates.flatMap((candidate) => (isObject(candidate) && key in candidate ? [candidate[key]] : [])));
    if (!Array.isArray(child)) return matchesNode(child, reached.filter(isObject));
    const scalars = reached.filter((value) => !isObject(value));
    return child.some((matcher) => matchesLeaf(matcher, scalars));
  });
}

function spread(values: unknown[]): unknown[] {
  return values.flatMap((value) => (Array.isArray(value) ? spread(value) : [value]));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matchesLeaf(matcher: Matcher, values: unknown[]): boolean {
  // `exists` asks about the key, not a value: a null is a value (it exists), a missing key or an empty array is not.
  if (isObject(matcher) && 'exists' in matcher) return values.length > 0 === matcher.exists;
  return values.some((value) => matchesValue(matcher, value));
}

function matchesValue(matcher: Matcher, value: unknown): boolean {
  // Literals compare by type and value: `[5]` matches 5 but not "5"; `[null]` only null; `[""]` only "". Lambda's
  // docs say exact number matches compare the JSON text (300, 300.0 and 3.0e2 differ); the filterable arrives
  // already parsed, so here they are one number and match.
  if (!isObject(matcher)) return value === matcher;
  if ('prefix' in matcher) return typeof value === 'string' && value.startsWith(matcher.prefix);
  if ('suffix' in matcher) return typeof value === 'string' && value.endsWith(matcher.suffix);
  if ('equals-ignore-case' in matcher) return typeof value === 'string' && value.toLowerCase() === matcher['equals-ignore-case'].toLowerCase();
  if ('numeric' in matcher) return typeof value === 'number' && inNumericRange(matcher.numeric, value);
  if ('anything-but' in matcher) return !excludedBy(matcher['anything-but'], value);
  return false;
}

function excludedBy(excluded: AnythingBut, value: unknown): boolean {
  if (Array.isArray(excluded)) return excluded.some((item) => item === value);
  if (!isObject(excluded)) return excluded === value;
  // Inner operators only ever exclude strings: a number or null passes `{"anything-but": {"prefix": "x"}}`.
  if (typeof value !== 'string') return false;
  if ('prefix' in excluded) return value.startsWith(excluded.prefix);
  if ('suffix' in excluded) return value.endsWith(excluded.suffix);
  const ignoringCase = excluded['equals-ignore-case'];
  return (Array.isArray(ignoringCase) ? ignoringCase : [ignoringCase]).some((item) => item.toLowerCase() === value.toLowerCase());
}

function inNumericRange(conditions: (string | number)[], value: number): boolean {
  for (let i = 0; i < conditions.length; i += 2) {
    const bound = conditions[i + 1] as number;
    switch (conditions[i]) {
      case '=':
        if (value !== bound) return false;
        break;
      case '>':
        if (!(value > bound)) return false;
        break;
      case '>=':
        if (!(value >= bound)) return false;
        break;
      case '<':
        if (!(value < bound)) return false;
        break;
      case '<=':
        if (!(value <= bound)) return false;
        break;
    }
  }
  return true;
}
