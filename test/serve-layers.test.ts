// Layers under `lambkin serve`, on real Docker through the real @aws-sdk/client-lambda: PublishLayerVersion, a
// function's Layers unpacked at /opt in its containers (in order: a later layer's file wins), a custom runtime whose
// bootstrap and tools come from a layer, and the refusals (code and layers over 250 MB unzipped together, an unknown
// layer version, Layers on an Image function).
// Containers carry the test labels; afterAll removes them and the data dir, also when a test fails.
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  type LambdaClient,
  PublishLayerVersionCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { requireDocker } from './support/docker.ts';
import { DockerLambdaServices } from './support/lambda-service.ts';
import { makeZip } from '../tools/zip.ts';
import { createActiveFunction, invokeJson, ROLE, waitUntilUpdated } from './support/lambda-fixtures.ts';

const docked = await requireDocker();

const LAYER_ARN = 'arn:aws:lambda:us-east-1:123456789012:layer:';

const greeterModule = (greeting: string) => `module.exports = (name) => '${greeting}, ' + name;\n`;

/** A layer with Node.js packages where the runtime looks for them (/opt/nodejs/node_modules). */
const packagesLayer = (packages: Record<string, string>) =>
  makeZip(Object.entries(packages).map(([name, source]) => ({ name: `nodejs/node_modules/${name}/index.js`, content: source })));

// CommonJS: require() finds layer packages through NODE_PATH, as on Lambda.
const NODE_HANDLER = `
const greeter = require('greeter');
let extra;
try { extra = require('extra')(); } catch { extra = null; }
exports.handler = async (event) => ({ greeting: greeter(event.name), extra });
`;

// A shell custom runtime kept in a layer (/opt/bootstrap) with a tool in /opt/bin (on PATH). The function's own
// zip holds only its data: the answer proves all three were found.
const LAYER_BOOTSTRAP = `#!/bin/sh
set -eu
API="http://\${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  curl -sS -LD "$HEADERS" "$API/invocation/next" >/dev/null
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$HEADERS"
  curl -sS "$API/invocation/$REQUEST_ID/response" -d "{\\"tool\\":\\"$(layer-tool)\\",\\"data\\":\\"$(cat "$LAMBDA_TASK_ROOT/data.txt")\\",\\"bootstrap\\":\\"$0\\"}" >/dev/null
done
`;

describe.skipIf(!docked)('layers under lambkin serve', () => {
  const services = new DockerLambdaServices();
  let lambda: LambdaClient;

  beforeAll(async () => {
    await services.backend.prepare();
    ({ lambda } = await services.start());
  }, 120_000);

  afterAll(async () => {
    lambda?.destroy();
    await services.close();
  });

  const publish = async (name: string, zip: Buffer) => {
    const layer = await lambda.send(new PublishLayerVersionCommand({ LayerName: name, Content: { ZipFile: zip }, CompatibleRuntimes: ['nodejs24.x'] }));
    return layer.LayerVersionArn!;
  };

  it('gives a nodejs24.x function the packages of its layer, and lists the layer in GetFunction', async ({ expect }) => {
    const zip = packagesLayer({ greeter: greeterModule('Hello') });
    const arn = await publish('greeter', zip);
    expect(arn).toBe(`${LAYER_ARN}greeter:1`);
    await createActiveFunction(lambda, {
      FunctionName: 'greets',
      Role: ROLE,
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Code: { ZipFile: makeZip([{ name: 'index.js', content: NODE_HANDLER }]) },
      Layers: [arn],
    });
    const greets = await invokeJson(lambda, 'greets', { name: 'Ada' });
    expect(greets.FunctionError).toBeUndefined();
    expect(greets.body).toEqual({ greeting: 'Hello, Ada', extra: null });

    const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'greets' }));
    expect(got.Configuration?.Layers).toEqual([{ Arn: arn, CodeSize: zip.length }]);
  }, 120_000);

  it("unpacks layers in order: the second layer's file wins over the first's, and an update swaps them", async ({ expect }) => {
    const first = await publish('base', packagesLayer({ greeter: greeterModule('first'), extra: "module.exports = () => 'from the first layer';\n" }));
    const second = await publish('override', packagesLayer({ greeter: greeterModule('second') }));
    await createActiveFunction(lambda, {
      FunctionName: 'layered',
      Role: ROLE,
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Code: { ZipFile: makeZip([{ name: 'index.js', content: NODE_HANDLER }]) },
      Layers: [first, second],
    });
    expect((await invokeJson(lambda, 'layered', { name: 'x' })).body).toEqual({ greeting: 'second, x', extra: 'from the first layer' });

    // The other order: the first layer's greeter wins now. A new layer list is a new revision (fresh environments).
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'layered', Layers: [second, first] }));
    await waitUntilUpdated(lambda, 'layered');
    expect((await invokeJson(lambda, 'layered', { name: 'x' })).body).toEqual({ greeting: 'first, x', extra: 'from the first layer' });

    // No layers at all: the package is gone from /opt.
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'layered', Layers: [] }));
    await waitUntilUpdated(lambda, 'layered');
    const bare = await invokeJson(lambda, 'layered', { name: 'x' });
    expect(bare.FunctionError).toBe('Unhandled');
    expect(bare.body.errorMessage).toContain("Cannot find module 'greeter'");
  }, 120_000);

  it('runs a provided.al2023 function whose bootstrap is /opt/bootstrap and whose tool is in /opt/bin', async ({ expect }) => {
    const runtimeLayer = await publish(
      'shell-runtime',
      makeZip([
        { name: 'bootstrap', content: LAYER_BOOTSTRAP, mode: 0o755 },
        { name: 'bin/layer-tool', content: '#!/bin/sh\necho tool-from-layer\n', mode: 0o755 },
      ]),
    );
    await createActiveFunction(lambda, {
      FunctionName: 'custom-from-layer',
      Role: ROLE,
      Runtime: 'provided.al2023',
      Handler: 'function.handler',
      Code: { ZipFile: makeZip([{ name: 'data.txt', content: 'data-from-task' }]) },
      Layers: [runtimeLayer],
    });
    const custom = await invokeJson(lambda, 'custom-from-layer');
    expect(custom.FunctionError).toBeUndefined();
    expect(custom.body).toEqual({ tool: 'tool-from-layer', data: 'data-from-task', bootstrap: '/opt/bootstrap' });
  }, 120_000);

  it("refuses function code and layers over Lambda's 250 MB unzipped, though each fits alone", async ({ expect }) => {
    // Zeros deflate to almost nothing: 140 MiB and 120 MiB unzipped, a few hundred KB zipped.
    const layer = await publish('big-zeros', makeZip([{ name: 'zeros.bin', content: Buffer.alloc(140 * 1024 * 1024) }]));
    const code = makeZip([
      { name: 'index.js', content: NODE_HANDLER },
      { name: 'zeros.bin', content: Buffer.alloc(120 * 1024 * 1024) },
    ]);
    const create = (name: string, layers: string[]) =>
      createActiveFunction(lambda, {
        FunctionName: name,
        Role: ROLE,
        Runtime: 'nodejs24.x',
        Handler: 'index.handler',
        Code: { ZipFile: code },
        Layers: layers,
      });
    await create('big-alone', []);
    const error = await create('big-together', [layer]).then(
      () => undefined,
      (thrown: Error) => thrown,
    );
    const total = 140 * 1024 * 1024 + 120 * 1024 * 1024 + Buffer.byteLength(NODE_HANDLER);
    expect(error?.name).toBe('InvalidParameterValueException');
    expect(error?.message).toBe(`Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. The actual size is ${total} bytes.`);
  }, 60_000);

  it('refuses an unknown layer version, and Layers on an Image function', async ({ expect }) => {
    const unknown = `${LAYER_ARN}nowhere:7`;
    const error = await lambda
      .send(
        new CreateFunctionCommand({
          FunctionName: 'unknown-layer',
          Role: ROLE,
          Runtime: 'nodejs24.x',
          Handler: 'index.handler',
          Code: { ZipFile: makeZip([{ name: 'index.js', content: NODE_HANDLER }]) },
          Layers: [unknown],
        }),
      )
      .then(
        () => undefined,
        (thrown: Error) => thrown,
      );
    expect(error?.name).toBe('InvalidParameterValueException');
    expect(error?.message).toBe(`Layer version ${unknown} does not exist.`);

    const arn = await publish('for-image', packagesLayer({ greeter: greeterModule('hi') }));
    const imageError = await lambda
      .send(
        new CreateFunctionCommand({ FunctionName: 'image-layer', Role: ROLE, PackageType: 'Image', Code: { ImageUri: 'lambkin/nodejs:24' }, Layers: [arn] }),
      )
      .then(
        () => undefined,
        (thrown: Error) => thrown,
      );
    expect(imageError?.name).toBe('InvalidParameterValueException');
  });
});
