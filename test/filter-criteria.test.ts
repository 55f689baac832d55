// Lambda's event filtering on its own: which FilterCriteria CreateEventSourceMapping refuses (and with what message),
// and which records a compiled criteria lets through. Patterns and records follow the examples of Lambda's docs
// (invocation-eventfiltering: the comparison operator table, the Kinesis and SQS examples).
import { describe, expect, it } from 'vitest';
import { compileFilterCriteria, filterCriteriaError, INVALID_FILTER_PATTERN, MAX_FILTERS, TOO_MANY_FILTERS } from '../src/delivery/mappings/filter-criteria.ts';

const criteriaOf = (...patterns: unknown[]) => ({ Filters: patterns.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) });
const matches = (pattern: unknown, filterable: unknown) => compileFilterCriteria(criteriaOf(pattern))(filterable);

type Case = [description: string, filterable: unknown, expected: boolean];

// Each table is one pattern against records that must and must not pass: a wrong matcher fails at least one row.
const operators: [operator: string, pattern: unknown, cases: Case[]][] = [
  [
    'Equals',
    { Name: ['Alice'] },
    [
      ['the same string', { Name: 'Alice' }, true],
      ['another case', { Name: 'alice' }, false],
      ['a longer string', { Name: 'Alice B' }, false],
      ['the key missing', { Other: 'Alice' }, false],
      ['null', { Name: null }, false],
    ],
  ],
  [
    'Null',
    { UserID: [null] },
    [
      ['null', { UserID: null }, true],
      ['missing', {}, false],
      ['empty string', { UserID: '' }, false],
      ['the string "null"', { UserID: 'null' }, false],
    ],
  ],
  [
    'Empty',
    { LastName: [''] },
    [
      ['empty string', { LastName: '' }, true],
      ['null', { LastName: null }, false],
      ['missing', {}, false],
      ['a space', { LastName: ' ' }, false],
    ],
  ],
  [
    'Or (values of one key)',
    { PaymentType: ['Credit', 'Debit'] },
    [
      ['the first', { PaymentType: 'Credit' }, true],
      ['the second', { PaymentType: 'Debit' }, true],
      ['neither', { PaymentType: 'Cash' }, false],
    ],
  ],
  [
    'And (keys)',
    { Location: ['New York'], Day: ['Monday'] },
    [
      ['both', { Location: 'New York', Day: 'Monday' }, true],
      ['only the first', { Location: 'New York', Day: 'Tuesday' }, false],
      ['only the second', { Location: 'Boston', Day: 'Monday' }, false],
      ['one key missing', { Location: 'New York' }, false],
    ],
  ],
  [
    'Numbers against strings',
    { Price: [100] },
    [
      ['the number', { Price: 100 }, true],
      ['the same number written 100.0 (parsed to 100)', JSON.parse('{"Price": 100.0}'), true],
      ['the number as a string', { Price: '100' }, false],
      ['another number', { Price: 101 }, false],
    ],
  ],
  [
    'Strings against numbers',
    { Code: ['7'] },
    [
      ['the string', { Code: '7' }, true],
      ['the number', { Code: 7 }, false],
    ],
  ],
  [
    'Booleans',
    { Flag: [true] },
    [
      ['true', { Flag: true }, true],
      ['false', { Flag: false }, false],
      ['the string "true"', { Flag: 'true' }, false],
    ],
  ],
  [
    'Not (anything-but, a list)',
    { Weather: [{ 'anything-but': ['Raining', 'Snowing'] }] },
    [
      ['another value', { Weather: 'Sunny' }, true],
      ['an excluded value', { Weather: 'Raining' }, false],
      ['the other excluded value', { Weather: 'Snowing' }, false],
      ['a number', { Weather: 5 }, true],
      ['missing', {}, false],
    ],
  ],
  [
    'Not (anything-but, a single value)',
    { State: [{ 'anything-but': 'initializing' }] },
    [
      ['another value', { State: 'running' }, true],
      ['the value', { State: 'initializing' }, false],
    ],
  ],
  [
    'Not (anything-but, a number)',
    { Code: [{ 'anything-but': [0] }] },
    [
      ['another number', { Code: 1 }, true],
      ['the number', { Code: 0 }, false],
      ['the number as a string', { Code: '0' }, true],
    ],
  ],
  [
    'Not (anything-but, a prefix)',
    { Region: [{ 'anything-but': { prefix: 'us-' } }] },
    [
      ['outside the prefix', { Region: 'eu-west-1' }, true],
      ['inside the prefix', { Region: 'us-east-1' }, false],
      ['the prefix alone', { Region: 'us-' }, false],
      ['a number (prefixes exclude strings only)', { Region: 1 }, true],
      ['missing', {}, false],
    ],
  ],
  [
    'Not (anything-but, a suffix)',
    { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    [
      ['another suffix', { FileName: 'a.jpg' }, true],
      ['the suffix', { FileName: 'a.png' }, false],
    ],
  ],
  [
    'Not (anything-but, ignoring case)',
    { State: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] },
    [
      ['another value', { State: 'running' }, true],
      ['an excluded value in another case', { State: 'INITIALIZING' }, false],
      ['the other excluded value', { State: 'Stopped' }, false],
    ],
  ],
  [
    'Numeric (equals)',
    { Price: [{ numeric: ['=', 100] }] },
    [
      ['equal', { Price: 100 }, true],
      ['equal as a decimal', { Price: 100.0 }, true],
      ['just above', { Price: 100.000001 }, false],
      ['a numeric string', { Price: '100' }, false],
    ],
  ],
  [
    'Numeric (range, > and <=)',
    { Price: [{ numeric: ['>', 10, '<=', 20] }] },
    [
      ['inside', { Price: 15 }, true],
      ['the open low edge', { Price: 10 }, false],
      ['just above the low edge', { Price: 10.5 }, true],
      ['the closed high edge', { Price: 20 }, true],
      ['just above the high edge', { Price: 20.01 }, false],
      ['below', { Price: -3 }, false],
      ['a string', { Price: '15' }, false],
      ['missing', {}, false],
    ],
  ],
  [
    'Numeric (range, >= and <)',
    { Temperature: [{ numeric: ['>=', 0, '<', 5] }] },
    [
      ['the closed low edge', { Temperature: 0 }, true],
      ['the open high edge', { Temperature: 5 }, false],
      ['just below the high edge', { Temperature: 4.99 }, true],
      ['below', { Temperature: -0.1 }, false],
    ],
  ],
  [
    'Numeric (one bound, <)',
    { Age: [{ numeric: ['<', 18] }] },
    [
      ['below', { Age: 17 }, true],
      ['the bound', { Age: 18 }, false],
    ],
  ],
  [
    'Exists',
    { ProductName: [{ exists: true }] },
    [
      ['a string', { ProductName: 'Widget' }, true],
      ['an empty string', { ProductName: '' }, true],
      ['null (a value)', { ProductName: null }, true],
      ['missing', { Other: 1 }, false],
      ['an empty array (no value)', { ProductName: [] }, false],
      ['an object (not a leaf)', { ProductName: { en: 'Widget' } }, false],
    ],
  ],
  [
    'Does not exist',
    { ProductName: [{ exists: false }] },
    [
      ['missing', { Other: 1 }, true],
      ['null (a value)', { ProductName: null }, false],
      ['a string', { ProductName: 'Widget' }, false],
      ['an empty array (no value)', { ProductName: [] }, true],
    ],
  ],
  [
    'Begins with',
    { Region: [{ prefix: 'us-' }] },
    [
      ['inside the prefix', { Region: 'us-east-1' }, true],
      ['the prefix alone', { Region: 'us-' }, true],
      ['another case', { Region: 'US-east-1' }, false],
      ['outside the prefix', { Region: 'eu-west-1' }, false],
      ['a number', { Region: 1 }, false],
    ],
  ],
  [
    'Ends with',
    { FileName: [{ suffix: '.png' }] },
    [
      ['the suffix', { FileName: 'image.png' }, true],
      ['another suffix', { FileName: 'image.jpg' }, false],
      ['another case', { FileName: 'image.PNG' }, false],
      ['the suffix inside, not at the end', { FileName: 'image.png.bak' }, false],
    ],
  ],
  [
    'Equals (ignore case)',
    { Name: [{ 'equals-ignore-case': 'alice' }] },
    [
      ['upper case', { Name: 'ALICE' }, true],
      ['mixed case', { Name: 'Alice' }, true],
      ['another name', { Name: 'Alicia' }, false],
    ],
  ],
];

describe('compileFilterCriteria: each operator', () => {
  for (const [operator, pattern, cases] of operators) {
    it.each(cases)(`${operator}: %s → %s`, (_description, filterable, expected) => {
      expect(matches(pattern, filterable)).toBe(expected);
    });
  }
});

describe('compileFilterCriteria: structure', () => {
  it('recurses into nested objects: the Kinesis example (metadata key and data key)', () => {
    const pattern = { partitionKey: ['1'], data: { Location: ['Los Angeles'] } };
    const record = { partitionKey: '1', sequenceNumber: '4959', data: { City: 'LA', Location: 'Los Angeles' } };
    expect(matches(pattern, record)).toBe(true);
    expect(matches(pattern, { ...record, partitionKey: '2' })).toBe(false);
    expect(matches(pattern, { ...record, data: { Location: 'San Diego' } })).toBe(false);
    // The data key holding a plain string (a non-JSON body) has no nested Location.
    expect(matches(pattern, { ...record, data: 'Location: Los Angeles' })).toBe(false);
  });

  it('a JSON pattern for the body does not match a plain-text body, nor a plain pattern a JSON body', () => {
    expect(matches({ body: { RequestCode: ['BBBB'] } }, { messageId: 'm', body: 'BBBB' })).toBe(false);
    expect(matches({ body: ['BBBB'] }, { messageId: 'm', body: 'BBBB' })).toBe(true);
    expect(matches({ body: ['BBBB'] }, { messageId: 'm', body: { RequestCode: 'BBBB' } })).toBe(false);
    expect(matches({ body: { RequestCode: ['BBBB'] } }, { messageId: 'm', body: { RequestCode: 'BBBB' } })).toBe(true);
  });

  it('a value that is an array in the event matches when any element matches', () => {
    const pattern = { tags: ['red'] };
    expect(matches(pattern, { tags: ['blue', 'red'] })).toBe(true);
    expect(matches(pattern, { tags: ['blue', 'green'] })).toBe(false);
    expect(matches(pattern, { tags: [['red']] })).toBe(true);
    expect(matches({ n: [{ numeric: ['>', 10] }] }, { n: [1, 2, 30] })).toBe(true);
    expect(matches({ n: [{ numeric: ['>', 10] }] }, { n: [1, 2, 3] })).toBe(false);
  });

  it('keys under an array of objects are read through every element', () => {
    const record = {
      items: [
        { sku: 'a', qty: 1 },
        { sku: 'b', qty: 5 },
      ],
    };
    expect(matches({ items: { sku: ['b'] } }, record)).toBe(true);
    expect(matches({ items: { sku: ['c'] } }, record)).toBe(false);
    expect(matches({ items: { qty: [{ numeric: ['>=', 5] }] } }, record)).toBe(true);
    expect(matches({ items: { price: [{ exists: false }] } }, record)).toBe(true);
    expect(matches({ items: { sku: [{ exists: false }] } }, record)).toBe(false);
  });

  it('a leaf does not match an object at its path, nor a nested pattern a scalar', () => {
    expect(matches({ a: ['x'] }, { a: { b: 'x' } })).toBe(false);
    expect(matches({ a: { b: ['x'] } }, { a: 'x' })).toBe(false);
  });

  it('matchers of one key OR together, including exists', () => {
    const pattern = { Status: [{ exists: false }, 'done'] };
    expect(matches(pattern, {})).toBe(true);
    expect(matches(pattern, { Status: 'done' })).toBe(true);
    expect(matches(pattern, { Status: 'open' })).toBe(false);
  });

  it('filters OR together: a record passes when any one matches', () => {
    const match = compileFilterCriteria(criteriaOf({ kind: ['a'] }, { kind: ['b'] }, { size: [{ numeric: ['>', 100] }] }));
    expect(match({ kind: 'a' })).toBe(true);
    expect(match({ kind: 'b' })).toBe(true);
    expect(match({ kind: 'c', size: 101 })).toBe(true);
    expect(match({ kind: 'c', size: 100 })).toBe(false);
  });

  it('a repeated key in a pattern: the last one wins', () => {
    const match = compileFilterCriteria({ Filters: [{ Pattern: '{"a": ["x"], "a": ["y"]}' }] });
    expect(match({ a: 'y' })).toBe(true);
    expect(match({ a: 'x' })).toBe(false);
  });

  it('no criteria, no filters, or an empty Filters list let everything through', () => {
    for (const criteria of [undefined, {}, { Filters: [] }]) {
      const match = compileFilterCriteria(criteria);
      expect(match({ anything: 1 })).toBe(true);
      expect(match('not even an object')).toBe(true);
    }
  });

  it('a record that is not an object has no keys: only "does not exist" can match it', () => {
    expect(matches({ body: ['x'] }, 'x')).toBe(false);
    expect(matches({ body: [{ exists: false }] }, undefined)).toBe(true);
  });

  it('refuses to compile criteria that CreateEventSourceMapping would refuse', () => {
    expect(() => compileFilterCriteria({ Filters: [{ Pattern: 'not json' }] })).toThrow(INVALID_FILTER_PATTERN);
  });
});

describe('filterCriteriaError', () => {
  it('accepts absent criteria, empty filters and every documented operator', () => {
    expect(filterCriteriaError(undefined)).toBeUndefined();
    expect(filterCriteriaError({})).toBeUndefined();
    expect(filterCriteriaError({ Filters: [] })).toBeUndefined();
    for (const [, pattern] of operators) expect(filterCriteriaError(criteriaOf(pattern))).toBeUndefined();
    expect(filterCriteriaError(criteriaOf({ a: { b: { c: ['deep'] } } }))).toBeUndefined();
  });

  // The first three are AWS-recorded (LocalStack's ESM snapshots: test_sqs_invalid_event_filter,
  // test_dynamodb_invalid_event_filter); the rest break the rule syntax the same way.
  it.each<[string, string | undefined]>([
    ['a missing Pattern', undefined],
    ['a plain string', 'simple string'],
    ['a leaf that is not an array', '{"eventSource": "aws:sqs"}'],
    ['malformed JSON', '[{"eventName": ["INSERT"=123}]'],
    ['an empty Pattern', ''],
    ['an array at the top', '[{"eventName": ["INSERT"]}]'],
    ['a number at the top', '42'],
    ['null at the top', 'null'],
    ['an empty leaf array', '{"eventSource": []}'],
    ['a nested leaf that is not an array', '{"body": {"a": 1}}'],
    ['an unknown operator', '{"a": [{"contains": "x"}]}'],
    ['two operators in one matcher', '{"a": [{"prefix": "x", "suffix": "y"}]}'],
    ['an empty matcher object', '{"a": [{}]}'],
    ['an array as a matcher', '{"a": [["x"]]}'],
    ['exists that is not a boolean', '{"a": [{"exists": "true"}]}'],
    ['prefix that is not a string', '{"a": [{"prefix": 1}]}'],
    ['numeric that is not an array', '{"a": [{"numeric": 5}]}'],
    ['numeric with an unknown operator', '{"a": [{"numeric": ["!=", 5]}]}'],
    ['numeric with a string operand', '{"a": [{"numeric": [">", "5"]}]}'],
    ['numeric with a range upside down', '{"a": [{"numeric": [">", 10, "<", 5]}]}'],
    ['numeric with an empty range', '{"a": [{"numeric": [">=", 5, "<=", 5]}]}'],
    ['numeric with two lower bounds', '{"a": [{"numeric": [">", 1, ">", 5]}]}'],
    ['numeric with = in a range', '{"a": [{"numeric": ["=", 1, "<", 5]}]}'],
    ['numeric with too many terms', '{"a": [{"numeric": [">", 1, "<", 5, "<", 6]}]}'],
    ['numeric with no terms', '{"a": [{"numeric": []}]}'],
    ['anything-but null', '{"a": [{"anything-but": null}]}'],
    ['anything-but with null in its list', '{"a": [{"anything-but": ["x", null]}]}'],
    ['anything-but with an empty list', '{"a": [{"anything-but": []}]}'],
    ['anything-but with an empty prefix', '{"a": [{"anything-but": {"prefix": ""}}]}'],
    ['anything-but with an unknown inner operator', '{"a": [{"anything-but": {"numeric": [">", 1]}}]}'],
    ['$or (not in Lambda’s rule syntax)', '{"$or": [{"a": ["x"]}, {"b": ["y"]}]}'],
    ['wildcard (not in Lambda’s rule syntax)', '{"a": [{"wildcard": "x*"}]}'],
  ])('refuses %s with AWS’s message', (_description, Pattern) => {
    expect(filterCriteriaError({ Filters: [{ Pattern }] })).toBe(INVALID_FILTER_PATTERN);
    expect(INVALID_FILTER_PATTERN).toBe('Invalid filter pattern definition.');
  });

  it('refuses the whole criteria when any one filter is bad', () => {
    expect(filterCriteriaError({ Filters: [{ Pattern: '{"a": ["x"]}' }, { Pattern: '{"a": "x"}' }] })).toBe(INVALID_FILTER_PATTERN);
  });

  it(`accepts ${MAX_FILTERS} filters and refuses ${MAX_FILTERS + 1}`, () => {
    const patterns = Array.from({ length: MAX_FILTERS + 1 }, (_, i) => ({ n: [i] }));
    expect(MAX_FILTERS).toBe(5);
    expect(filterCriteriaError(criteriaOf(...patterns.slice(0, MAX_FILTERS)))).toBeUndefined();
    expect(filterCriteriaError(criteriaOf(...patterns))).toBe(TOO_MANY_FILTERS);
  });
});
