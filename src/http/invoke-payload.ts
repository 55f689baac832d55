// A synchronous invoke's request body, checked as the Lambda API checks it before an event reaches a runtime, for
// both servers that take one: lambkin serve's Invoke (src/service/handlers/invoke.ts) and the emulator's invoke path
// (src/emulator/invoke-endpoint.ts).
//
// Lambda reads the payload with Jackson, byte by byte, and answers the first fault it meets in Jackson's words, at
// Jackson's line and column (bytes, 1-based), e.g. (test_lambda.snapshot.json, test_lambda_invoke_payload_encoding_error)
//   Could not parse request body into json: Could not parse payload into json: Invalid UTF-8 start byte 0x87
//    at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 3]
// JSON.parse decides what is valid (it is what the runtime will parse the event with); the scan below only finds and
// words the fault, as Jackson would, so that a payload Lambda refuses is refused with the text a user searches for.

/** The Lambda API's limit on a synchronous invoke's request body (6 MiB). */
export const MAX_INVOKE_REQUEST_BYTES = 6_291_456;

/** Lambda's words for a body over MAX_INVOKE_REQUEST_BYTES (a RequestEntityTooLargeException, 413). */
export const INVOKE_TOO_LARGE_MESSAGE = `Request must be smaller than ${MAX_INVOKE_REQUEST_BYTES} bytes for the InvokeFunction operation`;

/** The payload to deliver (an empty body is `{}`, as Lambda delivers it), or the InvalidRequestContentException message. */
export type PayloadCheck = { ok: true; payload: Buffer } | { ok: false; message: string };

const EMPTY_EVENT = Buffer.from('{}');
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function checkInvokePayload(body: Buffer): PayloadCheck {
  if (body.length === 0) return { ok: true, payload: EMPTY_EVENT };
  try {
    // fatal: Node's Buffer#toString would replace an invalid byte with U+FFFD and parse the result.
    JSON.parse(utf8.decode(body));
    return { ok: true, payload: body };
  } catch {
    return { ok: false, message: `Could not parse request body into json: Could not parse payload into json: ${jacksonFault(body)}` };
  }
}

const VALUE_LIST = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";

/** A fault found in the scan: Jackson's message and where its reader stood. */
class Fault extends Error {}

/** Jackson's description of a character it did not expect (ParserMinimalBase._getCharDesc). */
function charDesc(code: number): string {
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `(CTRL-CHAR, code ${code})`;
  const c = String.fromCodePoint(code);
  return code > 255 ? `'${c}' (code ${code} / 0x${code.toString(16)})` : `'${c}' (code ${code})`;
}

/** Java's Character.isJavaIdentifierStart / isJavaIdentifierPart, for the Latin-1 codes Jackson meets here. */
const identifierStart = (c: number) =>
  (c >= 0x41 && c <= 0x5a) ||
  (c >= 0x61 && c <= 0x7a) ||
  c === 0x24 ||
  c === 0x5f ||
  c === 0xa2 ||
  c === 0xa3 ||
  c === 0xa4 ||
  c === 0xa5 ||
  c === 0xaa ||
  c === 0xb5 ||
  c === 0xba ||
  (c >= 0xc0 && c <= 0xff && c !== 0xd7 && c !== 0xf7) ||
  c > 0xff;
const identifierPart = (c: number) =>
  identifierStart(c) || (c >= 0x30 && c <= 0x39) || (c >= 0 && c <= 8) || (c >= 0x0e && c <= 0x1b) || (c >= 0x7f && c <= 0x9f) || c === 0xad;

/** The first fault of `body` as Jackson's UTF8StreamJsonParser words it, with its location. */
function jacksonFault(body: Buffer): string {
  let ptr = 0;
  let line = 1;
  let rowStart = 0;
  const location = (column: number) => `\n at [Source: REDACTED (\`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION\` disabled); line: ${line}, column: ${column}]`;
  // Jackson places most faults after the byte it read; an unexpected character at the byte itself.
  const fail = (message: string, minusOne = false): never => {
    throw new Fault(message + location(ptr - rowStart + (minusOne ? 0 : 1)));
  };
  const unexpected = (code: number, what: string): never => fail(`Unexpected character (${charDesc(code)}): ${what}`, true);
  const endOfInput = (what: string): never => fail(`Unexpected end-of-input${what}`);

  /** A character decoded from UTF-8 where Jackson decodes one (_decodeCharForError, the string readers). */
  const decodeChar = (first: number): number => {
    if (first < 0x80) return first;
    let needed: number;
    let code: number;
    if ((first & 0xe0) === 0xc0) [code, needed] = [first & 0x1f, 1];
    else if ((first & 0xf0) === 0xe0) [code, needed] = [first & 0x0f, 2];
    else if ((first & 0xf8) === 0xf0) [code, needed] = [first & 0x07, 3];
    else return fail(`Invalid UTF-8 start byte 0x${first.toString(16)}`);
    for (; needed > 0; needed--) {
      if (ptr >= body.length) endOfInput(' in character escape sequence');
      const next = body[ptr++]!;
      if ((next & 0xc0) !== 0x80) fail(`Invalid UTF-8 middle byte 0x${next.toString(16)}`);
      code = (code << 6) | (next & 0x3f);
    }
    return code;
  };
  const skipWhitespace = (): number | undefined => {
    while (ptr < body.length) {
      const b = body[ptr++]!;
      if (b === 0x0a || b === 0x0d) {
        if (b === 0x0d && body[ptr] === 0x0a) ptr++;
        line++;
        rowStart = ptr;
      } else if (b !== 0x20 && b !== 0x09) return b;
    }
    return undefined;
  };
  /** A token Jackson did not recognise: it reads on while the characters could belong to it. */
  const invalidToken = (start: string): never => {
    let token = start;
    while (ptr < body.length) {
      const c = decodeChar(body[ptr++]!);
      if (!identifierPart(c)) break;
      token += String.fromCodePoint(c);
      if (token.length >= 256) break;
    }
    return fail(`Unrecognized token '${token}': was expecting ${VALUE_LIST}`);
  };
  /** true, false, null: a byte off the word (or the end) makes the token so far unrecognised, as does more after it. */
  const literal = (word: string) => {
    for (let i = 1; i < word.length; i++, ptr++) {
      if (ptr >= body.length || body[ptr] !== word.charCodeAt(i)) invalidToken(word.slice(0, i));
    }
    if (ptr < body.length && body[ptr]! < 0x80 && identifierPart(body[ptr]!)) invalidToken(word);
  };
  const string = (what: string) => {
    for (;;) {
      if (ptr >= body.length) endOfInput(what);
      const b = body[ptr++]!;
      if (b === 0x22) return;
      if (b === 0x5c) {
        if (ptr >= body.length) endOfInput(' in character escape sequence');
        const e = body[ptr++]!;
        if (e === 0x75) {
          for (let i = 0; i < 4; i++) {
            if (ptr >= body.length) endOfInput(' in character escape sequence');
            const h = body[ptr++]!;
            if (!/[0-9a-fA-F]/.test(String.fromCharCode(h))) unexpected(h, 'expected a hex-digit for character escape sequence');
          }
        } else if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) {
          const c = decodeChar(e);
          fail(`Unrecognized character escape ${charDesc(c)}`);
        }
      } else if (b < 0x20) {
        fail(`Illegal unquoted character (${charDesc(b)}): has to be escaped using backslash to be included in string value`);
      } else if (b >= 0x80) {
        decodeChar(b);
      }
    }
  };
  const digits = () => {
    let n = 0;
    while (ptr < body.length && body[ptr]! >= 0x30 && body[ptr]! <= 0x39) [ptr, n] = [ptr + 1, n + 1];
    return n;
  };
  const numberFault = (what: string): never => {
    if (ptr >= body.length) return endOfInput(' in a Number value');
    ptr++;
    return fail(`Unexpected character (${charDesc(body[ptr - 1]!)}) in numeric value: ${what}`, true);
  };
  const number = (first: number) => {
    if (first === 0x2d && digits() === 0) numberFault('expected digit (0-9) to follow minus sign, for valid numeric value');
    if (first === 0x30 && body[ptr]! >= 0x30 && body[ptr]! <= 0x39) fail('Invalid numeric value: Leading zeroes not allowed');
    if (first !== 0x2d) digits();
    if (body[ptr] === 0x2e) {
      ptr++;
      if (digits() === 0) numberFault('Decimal point not followed by a digit');
    }
    if (body[ptr] === 0x65 || body[ptr] === 0x45) {
      ptr++;
      if (body[ptr] === 0x2b || body[ptr] === 0x2d) ptr++;
      if (digits() === 0) numberFault('Exponent indicator not followed by a digit');
    }
  };
  const value = (b: number | undefined, closeOf: string) => {
    if (b === undefined) return endOfInput(closeOf);
    if (b === 0x7b) return object();
    if (b === 0x5b) return array();
    if (b === 0x22) return string(': was expecting closing quote for a string value');
    if (b === 0x2d || (b >= 0x30 && b <= 0x39)) return number(b);
    if (b === 0x74) return literal('true');
    if (b === 0x66) return literal('false');
    if (b === 0x6e) return literal('null');
    // At a value's start Jackson takes the byte itself, undecoded (code 153 for 0x99).
    if (identifierStart(b)) return invalidToken(String.fromCharCode(b));
    return unexpected(b, `expected a valid value ${VALUE_LIST}`);
  };
  const object = () => {
    const start = `: expected close marker for Object (start marker at [Source: REDACTED (\`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION\` disabled); line: ${line}, column: ${ptr - rowStart}])`;
    let b = skipWhitespace();
    if (b === 0x7d) return;
    for (;;) {
      if (b === undefined) return endOfInput(start);
      if (b !== 0x22) return unexpected(decodeAt(b), 'was expecting double-quote to start field name');
      string(": was expecting closing '\"' for name");
      b = skipWhitespace();
      if (b === undefined) return endOfInput(start);
      if (b !== 0x3a) return unexpected(decodeAt(b), 'was expecting a colon to separate field name and value');
      value(skipWhitespace(), start);
      b = skipWhitespace();
      if (b === 0x7d) return;
      if (b === undefined) return endOfInput(start);
      if (b !== 0x2c) return unexpected(decodeAt(b), 'was expecting comma to separate Object entries');
      b = skipWhitespace();
    }
  };
  const array = () => {
    const start = `: expected close marker for Array (start marker at [Source: REDACTED (\`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION\` disabled); line: ${line}, column: ${ptr - rowStart}])`;
    let b = skipWhitespace();
    if (b === 0x5d) return;
    for (;;) {
      value(b, start);
      b = skipWhitespace();
      if (b === 0x5d) return;
      if (b === undefined) return endOfInput(start);
      if (b !== 0x2c) return unexpected(decodeAt(b), 'was expecting comma to separate Array entries');
      b = skipWhitespace();
    }
  };
  /** Where Jackson words an unexpected byte past a value's start, it decodes it first. */
  const decodeAt = (b: number) => {
    const before = ptr;
    const code = decodeChar(b);
    ptr = before;
    return code;
  };

  try {
    const first = skipWhitespace();
    // Only whitespace: there is no value at all.
    if (first === undefined) return 'No content to map due to end-of-input';
    value(first, '');
    const trailing = skipWhitespace();
    if (trailing !== undefined) unexpected(decodeAt(trailing), 'expected end-of-input after the value');
  } catch (error) {
    if (error instanceof Fault) return error.message;
    throw error;
  }
  // Valid to Jackson's reading as scanned here, yet not to JSON.parse: said plainly.
  return `Unexpected content${location(body.length - rowStart + 1)}`;
}
