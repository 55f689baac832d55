// The API model's patterns are Java regular expressions that the whole value must match. Java reads `\p{L}`
// (Unicode classes) without a flag; JavaScript only under the `u` flag, which also refuses the needless escapes
// (`\_`) Java allows: so `u` only for the patterns that use a Unicode class.

export function javaPattern(source: string): RegExp {
  return new RegExp(`^(?:${source})$`, /\\[pP]\{/.test(source) ? 'u' : '');
}
