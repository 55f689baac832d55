// An Invoke payload that is not JSON, refused in the words Lambda answers it with (Jackson's message, line and column):
// the one check lambkin serve's Invoke and the emulator's invoke path both make (src/http/invoke-payload.ts).
import { describe, expect, it } from 'vitest';
import { checkInvokePayload } from '../src/http/invoke-payload.ts';

const SOURCE = '\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); ';
const refusal = (payload: string | Buffer) => {
  const check = checkInvokePayload(Buffer.isBuffer(payload) ? payload : Buffer.from(payload));
  if (check.ok) throw new Error('expected the payload to be refused');
  return check.message;
};
const parseError = (fault: string, line: number, column: number) =>
  `Could not parse request body into json: Could not parse payload into json: ${fault}${SOURCE}line: ${line}, column: ${column}]`;
const VALUES = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";

describe('the Invoke payload check', () => {
  // AWS: test_lambda.snapshot.json, TestLambdaErrors::test_lambda_invoke_payload_encoding_error[body-...]: the bytes the
  // AWS CLI v2 sends for --payload '{"body": ...}' without --cli-binary-format (base64-decoded text).
  it('refuses invalid UTF-8 after a token start as Lambda does: "Invalid UTF-8 start byte 0x87", line 1, column 3', () => {
    expect(refusal(Buffer.from('6e87729ee9b5d749ee9b6d74', 'hex'))).toBe(parseError('Invalid UTF-8 start byte 0x87', 1, 3));
  });

  // AWS: test_lambda.snapshot.json, test_lambda_invoke_payload_encoding_error[message-...]: --payload '{"message": "hello" }'.
  it('refuses a byte no value starts with as Lambda does: "(CTRL-CHAR, code 153)", line 1, column 1', () => {
    expect(refusal(Buffer.from('99eb2c6a07a17a5968', 'hex'))).toBe(
      parseError(`Unexpected character ((CTRL-CHAR, code 153)): expected a valid value ${VALUES}`, 1, 1),
    );
  });

  it('words other faults as Jackson does, counting lines and byte columns', () => {
    expect(refusal('{not json')).toBe(parseError("Unexpected character ('n' (code 110)): was expecting double-quote to start field name", 1, 2));
    expect(refusal('{"a":\n  tru}')).toBe(parseError(`Unrecognized token 'tru': was expecting ${VALUES}`, 2, 7));
    expect(refusal('{"a": 1 "b": 2}')).toBe(parseError("Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries", 1, 9));
    expect(refusal('"é\x01"')).toBe(
      parseError('Illegal unquoted character ((CTRL-CHAR, code 1)): has to be escaped using backslash to be included in string value', 1, 5),
    );
    expect(refusal('{"unterminated')).toBe(parseError(`Unexpected end-of-input: was expecting closing '"' for name`, 1, 15));
  });

  it('refuses invalid UTF-8 inside a string, which Buffer#toString would have replaced with U+FFFD', () => {
    expect(refusal(Buffer.from([0x22, 0x61, 0xc3, 0x28, 0x22]))).toBe(parseError('Invalid UTF-8 middle byte 0x28', 1, 5));
  });

  it('passes JSON through as sent, and an empty body as {}', () => {
    const body = Buffer.from('{"é": [1, 2.5e3, true, null]}');
    expect(checkInvokePayload(body)).toEqual({ ok: true, payload: body });
    expect(checkInvokePayload(Buffer.alloc(0))).toEqual({ ok: true, payload: Buffer.from('{}') });
  });
});
