// The in-container entrypoint (`/var/runtime/emulator.mjs`): a Runtime Interface Emulator-compatible emulator.
// `docker run -p 9000:8080 IMAGE` then `curl -d '{}' localhost:9000/2015-03-31/functions/function/invocations`.
import { EmulatorConfigError, readConfig } from './config.ts';
import { Emulator } from './emulator.ts';
import { InvokeEndpoint } from './invoke-endpoint.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = readConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof EmulatorConfigError)) throw error;
    process.stderr.write(`lambkin emulator: ${error.message}\n`);
    process.exit(2);
  }

  const emulator = new Emulator(config);
  const endpoint = new InvokeEndpoint(emulator);
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

main().catch((error: unknown) => {
  process.stderr.write(`lambkin emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
