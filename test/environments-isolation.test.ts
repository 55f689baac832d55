// An environment's Runtime API belongs to its container alone, and function code runs with least privilege.
// Each case replays an attack that worked before lambkin had its own network and per-peer listeners: an unrelated
// container looping GET /next took live events (payload included) and the caller got the forged answer; one
// function's code reached another's Runtime API; every listener sat on the machine's external address; function
// code ran as root with Docker's default capabilities.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { DockerBackend, type Environment, type EnvironmentSpec } from '../src/environments/index.ts';
import { NETWORK_GATEWAY, NETWORK_NAME, NETWORK_SUBNET, inSubnet } from '../src/environments/lambkin-network.ts';
import type { InvokeOutcome } from '../src/runtime-api/types.ts';
import { buildImage, removeAllContainers, removeBuiltImages, TEST_LABEL } from './support/containers.ts';
import { requireDocker } from './support/docker.ts';
import { repoRoot } from './support/emulator-process.ts';

const docked = await requireDocker();

const nodeCode = join(repoRoot, 'test', 'fixtures', 'environments', 'node');
const IMAGE = 'lambkin-test/isolation-node';
const ROOT_IMAGE = 'lambkin-test/isolation-node-root';
const testLabels = { [TEST_LABEL.split('=')[0]!]: '1', 'lambkin.test.owner': String(process.pid) };
const backend = new DockerBackend({ labels: testLabels });

async function start(context: TestContext, overrides: Partial<EnvironmentSpec> = {}): Promise<Environment> {
  const environment = await backend.start({
    functionName: `iso-${randomUUID().slice(0, 8)}`,
    image: IMAGE,
    memorySizeMb: 512,
    timeoutSeconds: 10,
    ...overrides,
  });
  context.onTestFinished(async () => {
    await environment.kill();
    await environment.exited;
  });
  expect((await environment.waitForInit()).kind).toBe('ready');
  return environment;
}

const bodyOf = (outcome: InvokeOutcome) => {
  if (outcome.kind !== 'success') throw new Error(`expected success, got ${JSON.stringify(outcome)}`);
  return JSON.parse(outcome.body.toString('utf8'));
};

async function runtimeApiOf(environment: Environment): Promise<string> {
  const { env } = bodyOf(await environment.invoke({ payload: JSON.stringify({ case: 'env' }) }));
  return env.AWS_LAMBDA_RUNTIME_API as string;
}

// An attacker as an unrelated container would run it: loops GET /next against `api` for `seconds`, then prints how
// many events it was handed and how its attempts ended.
const ATTACKER = `
const [api, seconds] = process.argv.slice(1);
const http = require('node:http');
const until = Date.now() + Number(seconds) * 1000;
const tally = { events: 0, attempts: 0, failures: {} };
function attempt() {
  if (Date.now() > until) return console.log(JSON.stringify(tally));
  tally.attempts++;
  const [host, port] = api.split(':');
  const req = http.get({ host, port, path: '/2018-06-01/runtime/invocation/next', timeout: 2000 }, (res) => {
    res.resume();
    if (res.statusCode === 200) {
      tally.events++;
      // Answer with a forged body, as the thief would.
      const id = res.headers['lambda-runtime-aws-request-id'];
      http.request({ host, port, method: 'POST', path: '/2018-06-01/runtime/invocation/' + id + '/response' }).end('"forged"');
    }
    res.on('end', attempt);
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (error) => { tally.failures[error.code || error.message] = (tally.failures[error.code || error.message] || 0) + 1; setTimeout(attempt, 5); });
}
attempt();
`;

describe.skipIf(!docked).concurrent('isolation of execution environments', () => {
  beforeAll(async () => {
    const files = {
      'index.js': { copyFrom: join(nodeCode, 'index.js') },
      'package.json': { copyFrom: join(nodeCode, 'package.json') },
    };
    await Promise.all([
      buildImage(IMAGE, { Dockerfile: 'FROM lambkin/nodejs:24\nCOPY index.js package.json ${LAMBDA_TASK_ROOT}/\nCMD ["index.handler"]\n', ...files }),
      buildImage(ROOT_IMAGE, {
        Dockerfile: 'FROM lambkin/nodejs:24\nUSER root\nCOPY index.js package.json ${LAMBDA_TASK_ROOT}/\nCMD ["index.handler"]\n',
        ...files,
      }),
      backend.prepare(),
    ]);
  }, 240_000);
  afterAll(async () => {
    await backend.close();
    await removeAllContainers();
    await removeBuiltImages();
  });

  it('an unrelated container looping GET /next takes no event, and every caller gets the real answer', async (context) => {
    const victim = await start(context);
    const api = await runtimeApiOf(victim);
    const attackers = ['bridge', NETWORK_NAME].map((network) =>
      execa(
        'docker',
        [
          'run',
          '--rm',
          '--label',
          TEST_LABEL,
          '--label',
          `lambkin.test.owner=${process.pid}`,
          '--network',
          network,
          '--entrypoint',
          'node',
          'lambkin/nodejs:24',
          '-e',
          ATTACKER,
          api,
          '8',
        ],
        { reject: false },
      ),
    );
    // 50 invokes while the attackers loop (8 s): each must come back as the function answered it.
    const answers: unknown[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => victim.invoke({ payload: JSON.stringify({ case: 'sleep', ms: 20 }) })));
      answers.push(...outcomes.map(bodyOf));
    }
    expect(answers).toHaveLength(50);
    expect(new Set(answers)).toEqual(new Set(['woke']));
    for (const attacker of await Promise.all(attackers)) {
      expect(attacker.exitCode, attacker.stderr).toBe(0);
      const tally = JSON.parse(attacker.stdout.trim().split('\n').pop()!);
      expect(tally.events).toBe(0);
      expect(tally.attempts).toBeGreaterThan(10);
    }
    expect(victim.isDead).toBe(false);
  }, 90_000);

  it("one function's code cannot reach another function's Runtime API", async (context) => {
    const [victim, thief] = await Promise.all([start(context), start(context)]);
    const api = await runtimeApiOf(victim);
    const attempt = bodyOf(await thief.invoke({ payload: JSON.stringify({ case: 'steal', api }) }));
    expect(attempt.status).toBeUndefined();
    expect(attempt.error).toBeTruthy();
    expect(bodyOf(await victim.invoke({ payload: JSON.stringify({ case: 'sleep', ms: 1 }) }))).toBe('woke');
  }, 60_000);

  it("listens only on lambkin's network gateway, which is on lambkin0 alone, and refuses the host itself", async (context) => {
    const environment = await start(context);
    const api = await runtimeApiOf(environment);
    expect(api).toMatch(new RegExp(`^${NETWORK_GATEWAY.replaceAll('.', '\\.')}:\\d+$`));

    // Every TCP listener of this test process, as `ss -ltnp` shows it: the Runtime API listeners of this file's
    // environments, and nothing on another address.
    const { stdout } = await execa('ss', ['-Hltnp']);
    const ours = stdout.split('\n').filter((line) => line.includes(`pid=${process.pid},`));
    expect(ours.length).toBeGreaterThan(0);
    for (const line of ours) expect(line.split(/\s+/)[3]).toMatch(new RegExp(`^${NETWORK_GATEWAY.replaceAll('.', '\\.')}:\\d+$`));

    const { stdout: addresses } = await execa('ip', ['-o', '-4', 'addr', 'show']);
    const holders = addresses
      .split('\n')
      .filter((line) => line.includes(` ${NETWORK_GATEWAY}/`))
      .map((line) => line.split(/\s+/)[1]);
    expect(holders).toEqual(['lambkin0']);

    // A connection from anywhere but the container (here: the host) is closed without an answer.
    const fromHost = await fetch(`http://${api}/2018-06-01/runtime/invocation/next`, { signal: AbortSignal.timeout(2000) }).then(
      (response) => `status ${response.status}`,
      (error: Error) => `failed: ${String((error.cause as { code?: string })?.code ?? error.name)}`,
    );
    expect(fromHost).toMatch(/^failed/);
    expect(bodyOf(await environment.invoke({ payload: JSON.stringify({ case: 'sleep', ms: 1 }) }))).toBe('woke');
  }, 60_000);

  it("function code runs as sbx_user1051 (993:990) with no capabilities and no way to gain any, on lambkin's network", async (context) => {
    const environment = await start(context);
    const identity = bodyOf(await environment.invoke({ payload: JSON.stringify({ case: 'identity' }) }));
    expect(identity).toMatchObject({ uid: 993, gid: 990, user: 'sbx_user1051', capEff: '0000000000000000', capBnd: '0000000000000000', noNewPrivs: '1' });
    expect(identity.addresses).toHaveLength(1);
    expect(inSubnet(identity.addresses[0], NETWORK_SUBNET)).toBe(true);
  }, 60_000);

  it('an image that names USER root keeps it (an entrypoint that needs root still runs), still without capabilities', async (context) => {
    const environment = await start(context, { image: ROOT_IMAGE });
    const identity = bodyOf(await environment.invoke({ payload: JSON.stringify({ case: 'identity' }) }));
    expect(identity).toMatchObject({ uid: 0, capEff: '0000000000000000', noNewPrivs: '1' });
  }, 60_000);
});

describe.skipIf(!docked).concurrent('/tmp sized by EphemeralStorage, apart from memory', () => {
  beforeAll(async () => {
    await buildImage(IMAGE, {
      Dockerfile: 'FROM lambkin/nodejs:24\nCOPY index.js package.json ${LAMBDA_TASK_ROOT}/\nCMD ["index.handler"]\n',
      'index.js': { copyFrom: join(nodeCode, 'index.js') },
      'package.json': { copyFrom: join(nodeCode, 'package.json') },
    });
    await backend.prepare();
  }, 240_000);

  it('a 256 MB function writes 600 MB to a 1,024 MB /tmp and is not killed', async (context) => {
    const environment = await start(context, { memorySizeMb: 256, ephemeralStorageMb: 1024, timeoutSeconds: 60 });
    const outcome = await environment.invoke({ payload: JSON.stringify({ case: 'fillTmp', mb: 600 }) });
    expect(bodyOf(outcome)).toEqual({ writtenMb: 600 });
    expect(environment.isDead).toBe(false);
  }, 120_000);

  it('the default 512 MB /tmp ends in ENOSPC, as on Lambda, and the function lives on', async (context) => {
    const environment = await start(context, { memorySizeMb: 256, timeoutSeconds: 60 });
    const result = bodyOf(await environment.invoke({ payload: JSON.stringify({ case: 'fillTmp', mb: 600 }) }));
    expect(result.error).toBe('ENOSPC');
    expect(result.writtenMb).toBeGreaterThanOrEqual(500);
    expect(result.writtenMb).toBeLessThan(530);
    expect(bodyOf(await environment.invoke({ payload: JSON.stringify({ case: 'sleep', ms: 1 }) }))).toBe('woke');
  }, 120_000);
});
