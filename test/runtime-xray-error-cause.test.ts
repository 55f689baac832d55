// The X-Ray error cause our runtime sends with /error (runtime/xray-error-cause.ts). The first cases are AWS's
// own unit tests for it (aws-lambda-nodejs-runtime-interface-client, test/unit/XRayErrorTest.js), with the
// exact text pinned as well; then what the header does with characters a header cannot hold, and the cap.
import { describe, expect, it } from 'vitest';
import { formatXRayErrorCause, MAX_XRAY_CAUSE_BYTES, xrayErrorCauseHeader } from '../runtime/xray-error-cause.ts';

function withStack(name: string, message: string, stack: unknown): Error {
  const error = new Error(message);
  error.name = name;
  (error as { stack: unknown }).stack = stack;
  return error;
}

const cwd = process.cwd();

describe('the cause, as AWS builds it', () => {
  it('a basic error: working_directory, then exceptions [{type, message, stack [{path, line, label}]}], then paths', () => {
    const error = withStack('CustomError', 'Something went wrong', 'CustomError: Something went wrong\n    at someFunction (/var/task/handler.js:10:15)');
    expect(formatXRayErrorCause(error)).toBe(
      `{"working_directory":${JSON.stringify(cwd)},"exceptions":[{"type":"CustomError","message":"Something went wrong",` +
        `"stack":[{"path":"/var/task/handler.js","line":10,"label":"someFunction"}]}],"paths":["/var/task/handler.js"]}`,
    );
  });

  it('an error without a stack: no frames, no paths', () => {
    const result = JSON.parse(formatXRayErrorCause(withStack('NoStackError', 'No stack here', null)));
    expect(result.exceptions).toEqual([{ type: 'NoStackError', message: 'No stack here', stack: [] }]);
    expect(result.paths).toEqual([]);
  });

  it('several frames; a frame without a function name is labelled anonymous, `at async f` keeps "async" (as AWS does); paths are distinct, in order', () => {
    const error = withStack(
      'ComplexError',
      'Complex error',
      [
        'ComplexError: Complex error',
        '    at firstFunction (/var/task/one.js:1:100)',
        '    at secondFunction (/var/task/two.js:2:200)',
        '    at /var/task/three.js:3:300',
        '    at async Promise.all (/var/task/one.js:7:1)',
      ].join('\n'),
    );
    const result = JSON.parse(formatXRayErrorCause(error));
    expect(result.exceptions[0].stack).toEqual([
      { path: '/var/task/one.js', line: 1, label: 'firstFunction' },
      { path: '/var/task/two.js', line: 2, label: 'secondFunction' },
      { path: '/var/task/three.js', line: 3, label: 'anonymous' },
      { path: '/var/task/one.js', line: 7, label: 'async Promise.all' },
    ]);
    expect(result.paths).toEqual(['/var/task/one.js', '/var/task/two.js', '/var/task/three.js']);
  });

  it('encodes DEL in name, message and stack as %7F', () => {
    const error = withStack('Name\x7F', '\x7Fmessage', 'Name\x7F: \x7Fmessage\n    at an\x7Fon (/var/task/bad.js:99:1)');
    const result = JSON.parse(formatXRayErrorCause(error));
    expect(result.exceptions[0]).toEqual({ type: 'Name%7F', message: '%7Fmessage', stack: [{ path: '/var/task/bad.js', line: 99, label: 'an%7Fon' }] });
  });

  it('is empty when the stack is not a string (AWS: "should return empty string on circular reference")', () => {
    const stack: Record<string, unknown> = { toString: () => 'CircularError: circular\n    at circularFunction (/var/task/circle.js:1:1)' };
    stack.circular = stack;
    expect(formatXRayErrorCause(withStack('CircularError', 'circular', stack))).toBe('');
  });

  it('is empty for null and undefined; a thrown string has neither type nor message', () => {
    expect(formatXRayErrorCause(null)).toBe('');
    expect(formatXRayErrorCause(undefined)).toBe('');
    expect(formatXRayErrorCause('plain string failure')).toBe(`{"working_directory":${JSON.stringify(cwd)},"exceptions":[{"stack":[]}],"paths":[]}`);
  });
});

describe('the header value', () => {
  it('is the cause itself when it holds only what a header can', () => {
    const error = withStack('E', 'line one\nline two\ttab', 'E: x\n    at f (/var/task/a.js:1:1)');
    const header = xrayErrorCauseHeader(error);
    expect(header).toBe(formatXRayErrorCause(error));
    expect(header).toContain('"message":"line one\\nline two\\ttab"');
  });

  it('percent-encodes non-ASCII text as UTF-8 bytes', () => {
    const header = xrayErrorCauseHeader(withStack('E', 'café ⚡', 'E: x'));
    expect(header).toContain('"message":"caf%C3%A9 %E2%9A%A1"');
    expect(header).toMatch(/^[\t\x20-\x7E]+$/);
  });

  it('is left out when the error cannot be read, or when the cause is over the cap', () => {
    expect(xrayErrorCauseHeader(null)).toBeUndefined();
    expect(xrayErrorCauseHeader(withStack('E', 'x'.repeat(MAX_XRAY_CAUSE_BYTES), 'E: x'))).toBeUndefined();
    expect(xrayErrorCauseHeader(withStack('E', 'x'.repeat(MAX_XRAY_CAUSE_BYTES - 200), 'E: x'))).toBeDefined();
  });
});
