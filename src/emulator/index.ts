// The in-container entrypoint (`/var/runtime/emulator.mjs`): a Runtime Interface Emulator-compatible emulator.
// `docker run -p 9000:8080 IMAGE` then `curl -d '{}' localhost:9000/2015-03-31/functions/function/invocations`.
import { EmulatorConfigError, readConfig } from './config.ts';
import { Emulator } from './emulator.ts';
import { InvokeEndpoint } from './invoke-endpoint.ts';

/** Runs the emulator until SIGTERM/SIGINT; `argv` are the RIE's flags, then the bootstrap command. */
export async function runEmulator(argv: string[]): Promise<void> {
  let config;
  try {
    config = readConfig(argv, process.env);
  } catch (error) {
    if (!(error instanceof EmulatorConfigError)) throw error;
    process.stderr.write(`lambkin emulator: ${error.message}\n`);
    process.exit(2);
  }

  const emulator = new Emulator(config);
  const endpoint = new InvokeEndpoint(emulator, { allowedHosts: config.allowedHosts });
  await emulator.start();
  const port = await endpoint.listen(config.invokeHost, config.invokePort);
  process.stdout.write(
    `${new Date().toISOString()} [lambkin emulator] listening on ${config.invokeHost}:${port}` +
      ` (POST /2015-03-31/functions/function/invocations); Runtime API on ${emulator.runtimeApiAddress}\n`,
  );

  let shuttingDown = false;
  const shutdown = async () => {
    if (shuttingDown) return;
    shuttingDown = true;
    await endpoint.close();
    await emulator.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

/** The entrypoint's way in: `node emulator.mjs [flags] [bootstrap...]`, exiting 1 on an unexpected failure. */
export function main(argv: string[]): void {
  runEmulator(argv).catch((error: unknown) => {
    process.stderr.write(`lambkin emulator: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
