// The rules that turn a function's spec into a container (no engine needed): Lambda's environment variables and
// reserved names, memory and CPU limits, the sandbox's file system, and exit reasons in Lambda's words.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerCreateOptions, environmentVariables, logStreamName, nanoCpusFor, RESERVED_VARIABLES } from '../src/environments/container-spec.ts';
import { exitReason } from '../src/environments/exit-reason.ts';
import { currentOwner } from '../src/environments/labels.ts';
import type { EnvironmentSpec } from '../src/environments/backend.ts';
import { TELEMETRY_PIPE_DIRECTORY, TELEMETRY_PIPE_NAME } from '../src/environments/telemetry-pipe.ts';

const spec: EnvironmentSpec = { functionName: 'orders', image: 'lambkin/nodejs:24', memorySizeMb: 256, timeoutSeconds: 3 };

describe('environment variables', () => {
  it("gives Lambda's variables, and the function's own cannot override the reserved ones", () => {
    const env = environmentVariables(
      {
        ...spec,
        functionVersion: '7',
        identity: { region: 'eu-west-1', accountId: '123456789012' },
        runtime: 'nodejs24.x',
        handler: 'index.handler',
        environment: { AWS_REGION: 'x', AWS_LAMBDA_RUNTIME_API: 'evil:1', _HANDLER: 'evil.handler', TZ: ':Asia/Tokyo', MINE: 'yes' },
      },
      '172.17.0.1:4000',
    );
    expect(env).toMatchObject({
      AWS_LAMBDA_RUNTIME_API: '172.17.0.1:4000',
      AWS_LAMBDA_FUNCTION_NAME: 'orders',
      AWS_LAMBDA_FUNCTION_VERSION: '7',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/orders',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      _HANDLER: 'index.handler',
      TZ: ':Asia/Tokyo',
      LANG: 'en_US.UTF-8',
      MINE: 'yes',
    });
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[7\][0-9a-f]{32}$/);
    expect(env.AWS_ACCESS_KEY_ID).toBeTruthy();
    for (const name of ['AWS_LAMBDA_RUNTIME_API', 'AWS_REGION', '_HANDLER', 'AWS_SESSION_TOKEN']) expect(RESERVED_VARIABLES.has(name)).toBe(true);
  });

  it('defaults: $LATEST, us-east-1, TZ=:UTC, no AWS_EXECUTION_ENV for custom runtimes', () => {
    const env = environmentVariables({ ...spec, initializationType: 'provisioned-concurrency' }, 'h:1');
    expect(env).toMatchObject({
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_REGION: 'us-east-1',
      TZ: ':UTC',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'provisioned-concurrency',
    });
    expect(env.AWS_EXECUTION_ENV).toBeUndefined();
    expect(logStreamName('$LATEST', new Date('2026-01-02T03:04:05Z'))).toMatch(/^2026\/01\/02\/\[\$LATEST\][0-9a-f]{32}$/);
  });
});

describe('the X-Ray variables', () => {
  // test_lambda_common.snapshot.json, test_introspection_invoke[nodejs24.x]: AWS_LAMBDA_RUNTIME_API 169.254.100.1:9001,
  // AWS_XRAY_DAEMON_ADDRESS 169.254.100.1:2000, _AWS_XRAY_DAEMON_ADDRESS 169.254.100.1, _AWS_XRAY_DAEMON_PORT 2000.
  it("are AWS's, at the Runtime API's host, and a function may set its own (they are not reserved)", () => {
    expect(environmentVariables(spec, '172.18.0.1:41234')).toMatchObject({
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
      AWS_XRAY_DAEMON_ADDRESS: '172.18.0.1:2000',
      _AWS_XRAY_DAEMON_ADDRESS: '172.18.0.1',
      _AWS_XRAY_DAEMON_PORT: '2000',
    });
    const own = environmentVariables({ ...spec, environment: { AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR' } }, '[fd00::1]:9001');
    expect(own).toMatchObject({ AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR', AWS_XRAY_DAEMON_ADDRESS: '[fd00::1]:2000' });
    expect(own._X_AMZN_TRACE_ID).toBeUndefined(); // set per invoke by the runtime, from Lambda-Runtime-Trace-Id
  });
});

describe('container limits', () => {
  it('CPU in proportion to memory (1769 MB = 1 vCPU), capped at the engine cores', () => {
    expect(nanoCpusFor(1769, 8)).toBe(1e9);
    expect(nanoCpusFor(128, 8)).toBe(Math.round((128 / 1769) * 1e9));
    expect(nanoCpusFor(10_240, 2)).toBe(2e9);
  });

  it('memory without swap, read-only root, a 512 MB /tmp, code read-only at /var/task, owner labels', () => {
    const owner = currentOwner('host-1');
    const options = containerCreateOptions({
      spec: { ...spec, codeDirectory: '/srv/code', handler: 'index.handler' },
      owner,
      runtimeApi: 'h:1',
      engineCores: 4,
    });
    expect(options.Cmd).toEqual(['index.handler']);
    expect(options.HostConfig).toMatchObject({
      Memory: 256 * 1024 * 1024,
      MemorySwap: 256 * 1024 * 1024,
      ReadonlyRootfs: true,
      Mounts: [{ Type: 'bind', Source: '/srv/code', Target: '/var/task', ReadOnly: true }],
      AutoRemove: false,
    });
    expect(options.HostConfig?.Tmpfs?.['/tmp']).toContain('size=512m');
    expect(options.Labels).toMatchObject({
      'lambkin.owner': 'host-1',
      'lambkin.owner.pid': String(process.pid),
      'lambkin.function': 'orders',
    });
  });

  it("mounts the telemetry log pipe's folder read-only where lambkin's entrypoint looks for it, only when there is one", () => {
    const owner = currentOwner('host-1');
    const withPipe = containerCreateOptions({ spec, owner, runtimeApi: 'h:1', engineCores: 4, telemetryPipeDirectory: '/var/tmp/pipes/7' });
    expect(withPipe.HostConfig?.Mounts).toEqual([{ Type: 'bind', Source: '/var/tmp/pipes/7', Target: '/var/lambkin/telemetry', ReadOnly: true }]);
    const entrypoint = readFileSync(join(import.meta.dirname, '..', 'images', 'lambda-entrypoint.sh'), 'utf8');
    expect(entrypoint).toContain(`TELEMETRY_PIPE=${TELEMETRY_PIPE_DIRECTORY}/${TELEMETRY_PIPE_NAME}\n`);
    expect(containerCreateOptions({ spec, owner, runtimeApi: 'h:1', engineCores: 4 }).HostConfig?.Mounts).toEqual([]);
  });

  it('ImageConfig overrides the command, entrypoint and working directory', () => {
    const options = containerCreateOptions({
      spec: { ...spec, handler: 'ignored.handler', imageConfig: { command: ['app.run'], entryPoint: ['/custom-entry'], workingDirectory: '/app' } },
      owner: currentOwner('h'),
      runtimeApi: 'h:1',
      engineCores: 1,
    });
    expect(options).toMatchObject({ Cmd: ['app.run'], Entrypoint: ['/custom-entry'], WorkingDir: '/app' });
  });
});

describe('exit reasons in Lambda words', () => {
  it.each([
    [{ exitCode: 1, oomKilled: false }, 'exit status 1'],
    [{ exitCode: 0, oomKilled: false }, 'exit status 0'],
    [{ exitCode: 137, oomKilled: false }, 'signal: killed'],
    [{ exitCode: 143, oomKilled: false }, 'signal: terminated'],
    [{ exitCode: 139, oomKilled: false }, 'signal: segmentation fault'],
    // The OOM killer may hit a child while the init exits with something else: OOMKilled decides.
    [{ exitCode: 1, oomKilled: true }, 'signal: killed'],
  ])('%o → %s', (exit, words) => {
    expect(exitReason(exit)).toBe(words);
  });
});
