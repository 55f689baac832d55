// Extracts from botocore's Lambda service model (botocore/data/lambda/2015-03-31/service-2.json) what lambkin's
// request validation needs: the input shapes of the operations lambkin serves (members, where each is read from,
// required, string pattern/min/max, number range, enum, list and map members), each error's message member
// (`Message` or `message`, as the SDKs read it), and every operation's HTTP route. Writes src/service/model/lambda-model.ts
// and src/invocation/error-message-members.ts.
//
//   npx node tools/extract-lambda-model.ts path/to/service-2.json <botocore commit> && npx biome format --write src/service/model/lambda-model.ts src/invocation/error-message-members.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { javaPattern } from '../src/service/model/java-pattern.ts';
import { OPERATIONS } from '../src/service/router.ts';

interface BotocoreShape {
  type: string;
  members?: Record<string, MemberRef>;
  required?: string[];
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  pattern?: string;
  min?: number;
  max?: number;
  enum?: string[];
  sensitive?: boolean;
  /** The member that is the whole HTTP body (Invoke's Payload, InvokeAsync's InvokeArgs). */
  payload?: string;
  exception?: boolean;
  error?: { httpStatusCode?: number };
}

const [modelPath, commit] = process.argv.slice(2);
if (!modelPath || !commit) {
  console.error('usage: npx node tools/extract-lambda-model.ts <service-2.json> <botocore commit>');
  process.exit(2);
}
const model = JSON.parse(readFileSync(modelPath, 'utf8')) as {
  metadata: { apiVersion: string };
  operations: Record<string, { input?: { shape: string }; http: { method: string; requestUri: string } }>;
  shapes: Record<string, BotocoreShape>;
};

/**
 * AWS names violations in its own member order; the model's order can differ where botocore reordered members
 * (2026: PublishLayerVersionRequest's CompatibleArchitectures moved before CompatibleRuntimes). Where AWS's recorded
 * answer shows its order, these members go last, in this order (LocalStack's test_lambda_api.snapshot.json,
 * TestLambdaLayer::test_layer_exceptions: compatibleRuntimes is named before compatibleArchitectures).
 */
const AWS_MEMBER_ORDER: Record<string, string[]> = {
  PublishLayerVersionRequest: ['CompatibleRuntimes', 'LicenseInfo', 'CompatibleArchitectures'],
};

function inAwsOrder(shapeName: string, members: [string, MemberRef][]): [string, MemberRef][] {
  const last = AWS_MEMBER_ORDER[shapeName];
  if (!last) return members;
  const rank = (member: string) => last.indexOf(member);
  return [...members.filter(([member]) => rank(member) < 0), ...last.flatMap((member) => members.filter(([name]) => name === member))];
}

type MemberRef = { shape: string; location?: string; locationName?: string };

const shapes: Record<string, Record<string, unknown>> = {};
function keep(name: string): void {
  if (shapes[name]) return;
  const shape = model.shapes[name];
  if (!shape) throw new Error(`shape ${name} is not in the model`);
  const kept: Record<string, unknown> = { type: shape.type };
  for (const field of ['pattern', 'min', 'max', 'enum', 'required', 'sensitive', 'payload'] as const)
    if (shape[field] !== undefined) kept[field] = shape[field];
  if (shape.pattern !== undefined) javaPattern(shape.pattern); // throws here, not at serve time, if JavaScript cannot read it
  shapes[name] = kept;
  if (shape.members) {
    kept.members = Object.fromEntries(
      inAwsOrder(name, Object.entries(shape.members)).map(([member, ref]) => [
        member,
        { shape: ref.shape, ...(ref.location ? { location: ref.location, locationName: ref.locationName } : {}) },
      ]),
    );
    for (const ref of Object.values(shape.members)) keep(ref.shape);
  }
  for (const part of ['member', 'key', 'value'] as const) {
    if (shape[part]) {
      kept[part] = shape[part].shape;
      keep(shape[part].shape);
    }
  }
}

const operations: Record<string, string | null> = {};
for (const operation of OPERATIONS) {
  const input = model.operations[operation]?.input?.shape;
  if (!model.operations[operation]) throw new Error(`operation ${operation} is not in the model`);
  operations[operation] = input ?? null;
  if (input) keep(input);
}

// Every operation's HTTP route, so that a request for one lambkin does not serve is answered by its name.
const routes = Object.entries(model.operations).map(([operation, { http }]) => ({ operation, method: http.method, requestUri: http.requestUri }));

const errorMessageMembers: Record<string, string> = {};
for (const [name, shape] of Object.entries(model.shapes)) {
  if (!shape.exception) continue;
  const member = Object.keys(shape.members ?? {}).find((key) => key.toLowerCase() === 'message');
  if (member) errorMessageMembers[name] = member;
}

const out = fileURLToPath(new URL('../src/service/model/lambda-model.ts', import.meta.url));
const body = JSON.stringify({ operations, shapes, routes }, null, 2);
writeFileSync(
  out,
  `// GENERATED by tools/extract-lambda-model.ts from botocore's Lambda service model (API ${model.metadata.apiVersion}),
// botocore/data/lambda/2015-03-31/service-2.json at boto/botocore commit ${commit} (Apache-2.0). Do not edit: regenerate
// (see src/service/model/README.md).
import type { LambdaModel } from './model-types.ts';

export const LAMBDA_MODEL: LambdaModel = ${body};
`,
);
console.log(`wrote ${out}: ${Object.keys(operations).length} operations, ${Object.keys(shapes).length} shapes`);

// The errors' message members go to a file of their own: LambdaError needs them, and the emulator (bundled into every
// image) says errors with LambdaError, so it must not load the whole model for them.
const membersOut = fileURLToPath(new URL('../src/invocation/error-message-members.ts', import.meta.url));
writeFileSync(
  membersOut,
  `// GENERATED by tools/extract-lambda-model.ts from botocore's Lambda service model, with src/service/model/lambda-model.ts
// (botocore commit ${commit}; Apache-2.0). Do not edit: regenerate. The member each Lambda API error carries its text in
// (\`Message\` or \`message\`, as the SDKs read it), apart from the model so that the emulator can say errors without it.
export const ERROR_MESSAGE_MEMBERS: Readonly<Record<string, string>> = ${JSON.stringify(errorMessageMembers, null, 2)};
`,
);
console.log(`wrote ${membersOut}: ${Object.keys(errorMessageMembers).length} errors`);
