// CI machines start from a bare Debian bookworm image, so the tools the third-party tests drive (curl for the
// shell runtime; cmake, make and g++ for aws-lambda-ric's native build) may be missing there. Under CI nothing may
// skip, so a missing tool is installed with apt-get instead; only a non-root user gets an error telling what to run.
import { execa } from 'execa';

export interface DebianTool {
  /** The command that must be on PATH. */
  command: string;
  /** The Debian package that provides it. */
  debianPackage: string;
}

/** True when `command` resolves on PATH (as the shell would find it). */
export async function commandExists(command: string): Promise<boolean> {
  const probe = await execa('sh', ['-c', 'command -v "$1"', 'sh', command], { reject: false });
  return probe.exitCode === 0;
}

/** Installs, with apt-get, the packages of whichever tools are missing; resolves once every tool is on PATH. */
export async function ensureDebianTools(tools: DebianTool[], log: (line: string) => void = () => {}): Promise<void> {
  const missing: DebianTool[] = [];
  for (const tool of tools) if (!(await commandExists(tool.command))) missing.push(tool);
  if (missing.length === 0) return;

  const packages = [...new Set(missing.map((tool) => tool.debianPackage))];
  const commands = missing.map((tool) => tool.command).join(', ');
  if (process.getuid?.() !== 0) {
    throw new Error(`${commands} not found on PATH; install it first: sudo apt-get install -y ${packages.join(' ')}`);
  }
  log(`installing ${packages.join(' ')} with apt-get (missing: ${commands})`);
  // Two test files may get here at once: wait for dpkg's lock instead of failing on it.
  const apt = (args: string[]) =>
    execa('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {
      reject: false,
      all: true,
      env: { DEBIAN_FRONTEND: 'noninteractive' },
    });
  const install = ['install', '-y', '--no-install-recommends', ...packages];
  let result = await apt(install);
  if (result.exitCode !== 0) {
    // A fresh image has no package lists yet.
    await apt(['update']);
    result = await apt(install);
  }
  if (result.exitCode !== 0) {
    throw new Error(`apt-get install ${packages.join(' ')} failed (exit ${result.exitCode}):\n${lastLines(String(result.all), 30)}`);
  }
  for (const tool of missing) {
    if (!(await commandExists(tool.command))) {
      throw new Error(`apt-get installed ${tool.debianPackage}, but ${tool.command} is still not on PATH`);
    }
  }
}

export function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}
