// The grammar of one FilterCriteria Pattern: which JSON texts Lambda accepts as a filter rule. Lambda's rule language
// is a subset of EventBridge's (docs: invocation-eventfiltering, "Filter rule syntax"); the checks below follow
// EventBridge's pattern compiler as LocalStack reproduces it (localstack utils/event_matcher.py,
// services/events/event_rule_engine.py), narrowed to the operators Lambda documents. Any failure is the one message
// AWS gives for every bad pattern, so a check only has to say yes or no.

/** A value in the event is compared with a matcher: a literal or a one-key operator object. */
export type Matcher =
  | null
  | string
  | number
  | boolean
  | { prefix: string }
  | { suffix: string }
  | { 'equals-ignore-case': string }
  | { 'anything-but': AnythingBut }
  | { numeric: (string | number)[] }
  | { exists: boolean };

export type AnythingBut = string | number | (string | number)[] | { prefix: string } | { suffix: string } | { 'equals-ignore-case': string | string[] };

/** Keys AND together; an array of matchers is a leaf whose matchers OR together; an object nests one level deeper. */
export interface PatternNode {
  [key: string]: PatternNode | Matcher[];
}

/** Parses a Pattern text; undefined when Lambda would refuse it. */
export function parsePattern(text: unknown): PatternNode | undefined {
  // An absent or empty Pattern is refused as well (AWS-recorded: test_sqs_invalid_event_filter[None]).
  if (typeof text !== 'string' || text === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isPatternNode(parsed) ? parsed : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPatternNode(value: unknown): value is PatternNode {
  if (!isObject(value)) return false;
  for (const child of Object.values(value)) {
    if (isObject(child)) {
      if (!isPatternNode(child)) return false;
    } else if (Array.isArray(child)) {
      // `{"eventSource": []}` is refused: an empty leaf could match nothing.
      if (child.length === 0 || !child.every(isMatcher)) return false;
    } else {
      // `{"eventSource": "aws:sqs"}` is refused: a leaf must be an array (AWS-recorded: invalid_filter2).
      return false;
    }
  }
  return true;
}

function isMatcher(value: unknown): value is Matcher {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  const entry = soleEntry(value);
  if (!entry) return false;
  const [operator, operand] = entry;
  switch (operator) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
      return typeof operand === 'string';
    case 'exists':
      return typeof operand === 'boolean';
    case 'numeric':
      return isNumericRange(operand);
    case 'anything-but':
      return isAnythingBut(operand);
    default:
      // wildcard, cidr, $or and the rest of EventBridge's operators are not in Lambda's rule syntax.
      return false;
  }
}

/** A match expression is an object with exactly one operator key. */
function soleEntry(value: unknown): [string, unknown] | undefined {
  if (!isObject(value)) return undefined;
  const entries = Object.entries(value);
  return entries.length === 1 ? entries[0] : undefined;
}

function isAnythingBut(operand: unknown): boolean {
  if (typeof operand === 'string') return true;
  if (typeof operand === 'number') return Number.isFinite(operand);
  if (Array.isArray(operand)) {
    // EventBridge: "Inside anything but list, start|null|boolean is not supported" (null refused; nested objects too).
    return operand.length > 0 && operand.every((item) => typeof item === 'string' || (typeof item === 'number' && Number.isFinite(item)));
  }
  const entry = soleEntry(operand);
  if (!entry) return false;
  const [operator, inner] = entry;
  if (operator === 'prefix' || operator === 'suffix') return typeof inner === 'string' && inner !== '';
  if (operator === 'equals-ignore-case') {
    return typeof inner === 'string' || (Array.isArray(inner) && inner.length > 0 && inner.every((item) => typeof item === 'string'));
  }
  return false;
}

const LOWER_BOUNDS = new Set(['>', '>=']);
const UPPER_BOUNDS = new Set(['<', '<=']);

/** `[op, n]` with op one of = < <= > >=, or a range `[> | >=, low, < | <=, high]` with low < high. */
function isNumericRange(operand: unknown): boolean {
  if (!Array.isArray(operand)) return false;
  const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
  if (operand.length === 2) {
    const [operator, bound] = operand;
    return (operator === '=' || LOWER_BOUNDS.has(operator) || UPPER_BOUNDS.has(operator)) && isNumber(bound);
  }
  if (operand.length === 4) {
    const [lowOperator, low, highOperator, high] = operand;
    return LOWER_BOUNDS.has(lowOperator) && isNumber(low) && UPPER_BOUNDS.has(highOperator) && isNumber(high) && low < high;
  }
  return false;
}
