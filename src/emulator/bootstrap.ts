// Finds the program to run as the runtime, as the RIE does: an explicit command, or the first bootstrap among
// the task root, /opt and the runtime directory. A missing or non-executable bootstrap is found here, before
// anything waits on it, so the emulator can say so at once instead of hanging (a known RIE defect).
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatorConfig } from './config.ts';

export type BootstrapChoice = { ok: true; command: string; args: string[] } | { ok: false; errorType: 'Runtime.InvalidEntrypoint'; message: string };

export function bootstrapCandidates(config: EmulatorConfig): string[] {
  return [join(config.taskRoot, 'bootstrap'), '/opt/bootstrap', join(config.runtimeDir, 'bootstrap')];
}

function problemWith(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return `${path} is not a file`;
  } catch {
    return `${path} does not exist`;
  }
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return `${path} is not executable (chmod +x it)`;
  }
  return undefined;
}

export function chooseBootstrap(config: EmulatorConfig): BootstrapChoice {
  if (config.command) {
    const [command, ...args] = config.command as [string, ...string[]];
    // A bare name is looked up on PATH by the spawn; only paths can be checked here.
    const problem = command.includes('/') ? problemWith(command) : undefined;
    if (problem) return { ok: false, errorType: 'Runtime.InvalidEntrypoint', message: `Couldn't start the bootstrap: ${problem}` };
    return { ok: true, command, args };
  }
  const candidates = bootstrapCandidates(config);
  const problems: string[] = [];
  for (const candidate of candidates) {
    const problem = problemWith(candidate);
    if (!problem) return { ok: true, command: candidate, args: [] };
    // A bootstrap that exists but cannot run is the user's, broken: say so rather than fall back to another.
    if (!problem.endsWith('does not exist')) {
      return { ok: false, errorType: 'Runtime.InvalidEntrypoint', message: `Couldn't start the bootstrap: ${problem}` };
    }
    problems.push(problem);
  }
  return {
    ok: false,
    errorType: 'Runtime.InvalidEntrypoint',
    message: `Couldn't find a valid bootstrap: ${problems.join('; ')}`,
  };
}
