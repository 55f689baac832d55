// A custom runtime written the way AWS's custom-runtime tutorial writes one (sh + curl, scraping the request id
// from /next's headers) must work unchanged against our Runtime API server: it is what `lambkin/provided` users
// bring. The bootstrap and its handler functions are in test/fixtures/shell-runtime/.
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianTools } from '../tools/debian-packages.ts';
import { startThirdPartyRuntime, stopAllThirdPartyRuntimes, type RuntimeCommand } from './support/third-party-runtime.ts';

const TASK_ROOT = fileURLToPath(new URL('./fixtures/shell-runtime/', import.meta.url));
const SHELL_BOOTSTRAP: RuntimeCommand = { command: `${TASK_ROOT}bootstrap`, args: [], env: {} };

const startShellRuntime = (handler: string) => startThirdPartyRuntime(SHELL_BOOTSTRAP, { handler, taskRoot: TASK_ROOT });

beforeAll(async () => {
  // The bootstrap needs curl; bare CI images may lack it.
  await ensureDebianTools([{ command: 'curl', debianPackage: 'curl' }]);
});

afterEach(stopAllThirdPartyRuntimes);

describe('a sh + curl bootstrap (AWS custom-runtime tutorial shape)', () => {
  it('gets ready, then answers each invoke with its handler output under that invoke’s request id', async () => {
    const shell = await startShellRuntime('function.handler');
    expect((await shell.waitForInit()).kind).toBe('ready');

    for (const [n, requestId] of ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'].entries()) {
      const outcome = await shell.invoke({ n }, { requestId });
      expect(outcome.kind).toBe('success');
      if (outcome.kind !== 'success') return;
      // The handler echoes the request id the bootstrap scraped from /next's headers: proof it found the right one.
      expect(JSON.parse(outcome.body.toString('utf8'))).toEqual({ requestId, event: { n } });
      expect(outcome.requestId).toBe(requestId);
    }
    // curl printed our 202 body for each POST /response.
    expect(shell.output()).toContain('{"status":"OK"}');
  });

  it('turns a failing handler into a function error posted to /invocation/{id}/error, and keeps serving', async () => {
    const shell = await startShellRuntime('function.fail');
    expect((await shell.waitForInit()).kind).toBe('ready');

    for (let i = 0; i < 2; i++) {
      const outcome = await shell.invoke({});
      expect(outcome.kind).toBe('function-error');
      if (outcome.kind !== 'function-error') return;
      // The body's errorType wins over the tutorial's `Lambda-Runtime-Function-Error-Type: Unhandled` header.
      expect(outcome.error).toMatchObject({ errorType: 'HandlerFailed', errorMessage: 'cannot process event' });
      expect(JSON.parse(outcome.body.toString('utf8'))).toEqual({ errorType: 'HandlerFailed', errorMessage: 'cannot process event' });
    }
  });

  it('reports a missing handler script through /init/error, and queued invokes get that init error', async () => {
    const shell = await startShellRuntime('missing.handler');
    const queued = shell.invoke({});

    const init = await shell.waitForInit();
    expect(init.kind).toBe('init-error');
    if (init.kind !== 'init-error') return;
    expect(init.error.errorType).toBe('Runtime.ImportModuleError');
    expect(init.error.errorMessage).toContain('missing.sh');

    const outcome = await queued;
    expect(outcome.kind).toBe('init-error');
    expect((await shell.exited).code).toBe(1);
  });

  it('times out an invoke whose handler outlives its deadline', async () => {
    const shell = await startShellRuntime('function.slow');
    expect((await shell.waitForInit()).kind).toBe('ready');

    const outcome = await shell.invoke({}, { timeoutMs: 500 });
    expect(outcome.kind).toBe('timeout');
    if (outcome.kind !== 'timeout') return;
    expect(outcome.error.errorType).toBe('Sandbox.Timedout');
    expect(outcome.error.errorMessage).toBe(`RequestId: ${outcome.requestId} Error: Task timed out after 0.50 seconds`);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(490);
  });
});
