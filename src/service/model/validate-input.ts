// The constraints Lambda's service model puts on an operation's input (required members, string length and pattern,
// number range, enums, list and map members), checked as AWS checks them before the operation runs: every violation,
// in the model's member order, in AWS's words ("Value '...' at 'memorySize' failed to satisfy constraint: ...").
// What the model leaves to the service (a runtime lambkin runs, Lambda's 900 s timeout) the handlers check.
import { AWS_RECOGNISED_RUNTIMES, AWS_SUPPORTED_RUNTIMES } from './aws-runtimes.ts';
import { javaPattern } from './java-pattern.ts';
import { LAMBDA_MODEL } from './lambda-model.ts';
import type { MemberRef, ModelShape } from './model-types.ts';

/** A request's inputs, where the model says each member comes from. */
export interface RequestInput {
  /** URL-decoded path parameters, by the model's locationName (FunctionName, LayerName, VersionNumber). */
  path: Record<string, string | undefined>;
  query: URLSearchParams;
  /** Request headers, by lower-case name (Invoke's X-Amz-Invocation-Type, X-Amz-Log-Type). */
  headers?: Record<string, string | string[] | undefined>;
  /** The parsed JSON body; undefined when the operation has none or it is not a JSON object. */
  body?: Record<string, unknown>;
}

const NOT_NULL = 'Member must not be null';
const patterns = new Map<string, RegExp>();

/** Every violation of `operation`'s input constraints, each as one clause of AWS's message; none: []. */
export function inputViolations(operation: string, input: RequestInput): string[] {
  const shapeName = LAMBDA_MODEL.operations[operation];
  if (!shapeName) return [];
  const shape = LAMBDA_MODEL.shapes[shapeName]!;
  const violations: string[] = [];
  for (const [member, ref] of Object.entries(shape.members ?? {})) {
    // The body itself is the payload member: there is always one (an empty body is the empty event).
    if (member === shape.payload) continue;
    const value = memberValue(ref, member, input);
    checkMember(violations, fieldName(member), value, ref.shape, shape.required?.includes(member) ?? false, ref.location === undefined);
  }
  return violations;
}

/** Whether `operation` reads members from a JSON body (Invoke's body is the function's payload, a blob). */
export function takesJsonBody(operation: string): boolean {
  const shapeName = LAMBDA_MODEL.operations[operation];
  const members = shapeName ? Object.values(LAMBDA_MODEL.shapes[shapeName]!.members ?? {}) : [];
  return members.some((ref) => ref.location === undefined && LAMBDA_MODEL.shapes[ref.shape]?.type !== 'blob');
}

/** AWS's message for `violations` (at least one): "1 validation error detected: ..." or "N validation errors detected: ...; ...". */
export function validationMessage(violations: string[]): string {
  const count = violations.length;
  return `${count} validation error${count === 1 ? '' : 's'} detected: ${violations.join('; ')}`;
}

function memberValue(ref: MemberRef, member: string, input: RequestInput): unknown {
  switch (ref.location) {
    case 'uri':
      return input.path[ref.locationName ?? member];
    case 'querystring': {
      const value = input.query.get(ref.locationName ?? member);
      if (value === null) return undefined;
      // A number in the query string is checked as the number it names; one that is not a number is the handler's.
      const type = LAMBDA_MODEL.shapes[ref.shape]?.type;
      if (type === 'integer' || type === 'long') return /^-?\d+$/.test(value) ? Number(value) : undefined;
      return value;
    }
    case undefined:
      return input.body?.[member];
    case 'header': {
      const value = input.headers?.[(ref.locationName ?? member).toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    }
    default:
      return undefined;
  }
}

/** AWS names a member lower-camel in its messages: memorySize, environment.variables, ephemeralStorage.size. */
function fieldName(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}

function checkMember(violations: string[], path: string, value: unknown, shapeName: string, required: boolean, inBody: boolean): void {
  const shape = LAMBDA_MODEL.shapes[shapeName]!;
  if (value === undefined || value === null) {
    if (required) violations.push(clause(path, null, NOT_NULL, shape));
    return;
  }
  if (shapeName === 'Runtime') {
    // A function's Runtime AWS checks itself, with a message of its own ("... or be a valid ARN"): the handler does.
    // A runtime filter AWS checks against every runtime name it knows, not the model's enum.
    if (!inBody && typeof value === 'string' && !AWS_RECOGNISED_RUNTIMES.includes(value))
      violations.push(clause(path, value, enumRule(AWS_RECOGNISED_RUNTIMES), shape));
    return;
  }
  switch (shape.type) {
    case 'structure':
      if (!isObject(value)) return;
      for (const [member, ref] of Object.entries(shape.members ?? {})) {
        checkMember(violations, `${path}.${fieldName(member)}`, value[member], ref.shape, shape.required?.includes(member) ?? false, true);
      }
      return;
    case 'list':
      checkList(violations, path, value, shape);
      return;
    case 'map':
      checkMap(violations, path, value, shape);
      return;
    default:
      for (const rule of brokenRules(value, shape)) violations.push(clause(path, value, rule, shape));
  }
}

function checkList(violations: string[], path: string, value: unknown, shape: ModelShape): void {
  if (!Array.isArray(value)) return;
  for (const rule of lengthRules(value.length, shape)) violations.push(clause(path, value, rule, shape));
  const memberShape = LAMBDA_MODEL.shapes[shape.member!]!;
  if (shape.member === 'Runtime') {
    if (value.some((item) => typeof item !== 'string' || !AWS_SUPPORTED_RUNTIMES.includes(item))) {
      violations.push(clause(path, value, `Member must satisfy enum value set: [${AWS_SUPPORTED_RUNTIMES.join(', ')}]`, shape));
    }
    return;
  }
  if (value.some((item) => item === null || brokenRules(item, memberShape).length > 0)) {
    violations.push(clause(path, value, `Member must satisfy constraint: [${[...allRules(memberShape), NOT_NULL].join(', ')}]`, shape));
  }
}

function checkMap(violations: string[], path: string, value: unknown, shape: ModelShape): void {
  if (!isObject(value)) return;
  const entries = Object.entries(value);
  for (const rule of lengthRules(entries.length, shape)) violations.push(clause(path, value, rule, shape));
  const keyShape = LAMBDA_MODEL.shapes[shape.key!]!;
  const valueShape = LAMBDA_MODEL.shapes[shape.value!]!;
  if (entries.some(([key]) => brokenRules(key, keyShape).length > 0)) {
    violations.push(clause(path, value, `Map keys must satisfy constraint: [${allRules(keyShape).join(', ')}]`, shape));
  }
  if (entries.some(([, item]) => item === null || brokenRules(item, valueShape).length > 0)) {
    violations.push(clause(path, value, `Map value must satisfy constraint: [${[...allRules(valueShape), NOT_NULL].join(', ')}]`, shape));
  }
}

/** The rules of a scalar shape that `value` breaks, in AWS's order; a value of another JSON type is the handler's. */
function brokenRules(value: unknown, shape: ModelShape): string[] {
  if (typeof value === 'string' && shape.type === 'string') {
    const broken = lengthRules(value.length, shape);
    if (shape.pattern !== undefined && !pattern(shape.pattern).test(value)) broken.push(patternRule(shape.pattern));
    if (shape.enum && !shape.enum.includes(value)) broken.push(enumRule(shape.enum));
    return broken;
  }
  if (typeof value === 'number' && ['integer', 'long', 'float', 'double'].includes(shape.type)) {
    const broken: string[] = [];
    if (shape.max !== undefined && value > shape.max) broken.push(`Member must have value less than or equal to ${javaNumber(shape.max, shape)}`);
    if (shape.min !== undefined && value < shape.min) broken.push(`Member must have value greater than or equal to ${javaNumber(shape.min, shape)}`);
    return broken;
  }
  return [];
}

function lengthRules(length: number, shape: ModelShape): string[] {
  const broken: string[] = [];
  if (shape.max !== undefined && length > shape.max) broken.push(`Member must have length less than or equal to ${shape.max}`);
  if (shape.min !== undefined && length < shape.min) broken.push(`Member must have length greater than or equal to ${shape.min}`);
  return broken;
}

/** Every rule of a member shape, as AWS lists them for a list's members or a map's keys and values. */
function allRules(shape: ModelShape): string[] {
  const isNumber = shape.type !== 'string';
  const unit = isNumber ? 'value' : 'length';
  const rules: string[] = [];
  if (shape.max !== undefined) rules.push(`Member must have ${unit} less than or equal to ${javaNumber(shape.max, shape)}`);
  if (shape.min !== undefined) rules.push(`Member must have ${unit} greater than or equal to ${javaNumber(shape.min, shape)}`);
  if (shape.pattern !== undefined) rules.push(patternRule(shape.pattern));
  if (shape.enum) rules.push(enumRule(shape.enum));
  return rules;
}

const patternRule = (source: string) => `Member must satisfy regular expression pattern: ${source}`;
const enumRule = (values: string[]) => `Member must satisfy enum value set: [${values.join(', ')}]`;

function pattern(source: string): RegExp {
  let compiled = patterns.get(source);
  if (!compiled) {
    compiled = javaPattern(source);
    patterns.set(source, compiled);
  }
  return compiled;
}

/** One violation, in AWS's words; a sensitive member's value is not repeated. */
function clause(path: string, value: unknown, rule: string, shape: ModelShape): string {
  if (value === null) return `Value null at '${path}' failed to satisfy constraint: ${rule}`;
  if (shape.sensitive) return `Value at '${path}' failed to satisfy constraint: ${rule}`;
  return `Value '${javaString(value, LAMBDA_MODEL.shapes[shape.value ?? shape.member ?? ''] ?? shape)}' at '${path}' failed to satisfy constraint: ${rule}`;
}

/**
 * A value as AWS's (Java) service prints it: lists as [a, b], maps as {k=v}, a float or double with its fraction
 * (`{2=2.0}`, routingConfig.additionalVersionWeights in test_notfound_and_invalid_routingconfigs). `scalar` is the
 * shape of the value's scalars (a list's members, a map's values).
 */
function javaString(value: unknown, scalar: ModelShape): string {
  if (Array.isArray(value)) return `[${value.map((item) => javaString(item, scalar)).join(', ')}]`;
  if (isObject(value)) {
    return `{${Object.entries(value)
      .map(([key, item]) => `${key}=${javaString(item, scalar)}`)
      .join(', ')}}`;
  }
  return typeof value === 'number' ? javaNumber(value, scalar) : String(value);
}

/** A number as Java prints a value of `shape`'s type: a float or double always with a fraction (1.0). */
function javaNumber(value: number, shape: ModelShape): string {
  return (shape.type === 'float' || shape.type === 'double') && Number.isInteger(value) ? value.toFixed(1) : String(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
