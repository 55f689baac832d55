// `npm run images`: builds lambkin's images on a machine that reaches no container registry (ours reach only the
// npm registry and Debian's packages), so the public bases the Dockerfiles name by default (node:24-bookworm-slim,
// debian:bookworm-slim) are made here instead:
//   lambkin-offline/debian:bookworm       Debian minbase from Debian's packages (mmdebstrap), like bookworm-slim
//   lambkin-offline/debian:bookworm-curl  the same plus ca-certificates and curl, the base of lambkin/provided
//   lambkin-offline/node:24               the first plus the project's own Node.js 24 binary (`node` devDependency)
// then the real Dockerfiles are built on them with --build-arg, exactly as a user online builds them on the public
// bases: lambkin/nodejs:24, lambkin/provided:latest and the two examples.
//
// The offline bases are slow to make (mmdebstrap) and rarely change: each carries a label with a hash of what made
// it, and is reused while that hash matches. `--fresh` remakes them anyway (e.g. to pick up Debian's updates).
// The docker CLI is driven with execa: this is a build script, not the service (which talks to dockerode).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FRESH = process.argv.includes('--fresh');
// Inherited by every image built on an offline base, where it tells which base inputs it was built on.
const INPUTS_LABEL = 'lambkin.offline-base';
// The `node` package's platform package holds the binary; npm may nest it under `node` or hoist it.
// A later `npm install` prunes the platform package (npm does not know the preinstall put it there); the binary
// the preinstall copied to node/bin/node stays.
const NODE_BINARY = [
  `node_modules/node/node_modules/node-linux-${process.arch}/bin/node`,
  `node_modules/node-linux-${process.arch}/bin/node`,
  'node_modules/node/bin/node',
]
  .map((path) => join(ROOT, path))
  .find((path) => existsSync(path));
// Bump when the recipe below changes in a way the hashed inputs do not capture.
const RECIPE_VERSION = 3;

const OS_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
// Like Docker's official Debian images: no docs, man pages or translations, no recommended packages, and
// /usr merged by a hook instead of the usrmerge package (which would drag in perl).
const MMDEBSTRAP_BASE_ARGS = [
  '--variant=minbase',
  '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr',
  '--aptopt=APT::Install-Recommends "false"',
  '--dpkgopt=path-exclude=/usr/share/man/*',
  '--dpkgopt=path-exclude=/usr/share/info/*',
  '--dpkgopt=path-exclude=/usr/share/doc/*',
  '--dpkgopt=path-include=/usr/share/doc/*/copyright',
  '--dpkgopt=path-exclude=/usr/share/locale/*',
  '--dpkgopt=path-include=/usr/share/locale/locale.alias',
];
// What Docker's Debian images add to /etc/apt/apt.conf.d so that a Dockerfile's `apt-get install` leaves no caches
// in its layer (apt's package caches alone are ~80 MB) and fetches no translations.
const APT_CONFIG = {
  'docker-clean': [
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
    'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
    'Dir::Cache::pkgcache "";',
    'Dir::Cache::srcpkgcache "";',
  ],
  'docker-autoremove-suggests': ['Apt::AutoRemove::SuggestsImportant "false";'],
  'docker-no-languages': ['Acquire::Languages "none";'],
  'docker-gzip-indexes': ['Acquire::GzipIndexes "true";', 'Acquire::CompressionTypes::Order:: "gz";'],
};
const OS_IMAGES = [
  { name: 'lambkin-offline/debian:bookworm', include: [] },
  { name: 'lambkin-offline/debian:bookworm-curl', include: ['ca-certificates', 'curl'] },
];
const NODE_IMAGE = 'lambkin-offline/node:24';

const started = Date.now();
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const log = (line) => console.log(`build-images: ${line}`);
// The docker CLI warns on every build that its legacy builder is deprecated (Debian's engine has no buildx here).
const NOISE = /legacy builder is deprecated|Install the buildx component|docs\.docker\.com\/go\/buildx/;

/** Runs a command, echoing its output lines with a prefix; a heartbeat shows it is alive through quiet stretches. */
async function run(prefix, command, args, options = {}) {
  const since = Date.now();
  let lastOutput = Date.now();
  const heartbeat = setInterval(() => {
    if (Date.now() - lastOutput >= 10_000) {
      console.log(`  [${prefix}] … still running (${seconds(since)})`);
      lastOutput = Date.now();
    }
  }, 2_000);
  try {
    const child = execa(command, args, { cwd: ROOT, all: true, buffer: false, ...options });
    for await (const line of child.iterable({ from: 'all' })) {
      lastOutput = Date.now();
      if (line.trim() && !NOISE.test(line)) console.log(`  [${prefix}] ${line}`);
    }
    await child;
  } finally {
    clearInterval(heartbeat);
  }
}

async function docker(...args) {
  return (await execa('docker', args, { cwd: ROOT })).stdout.trim();
}

async function imageLabel(image, label) {
  const result = await execa('docker', ['image', 'inspect', '-f', `{{ index .Config.Labels "${label}" }}`, image], {
    reject: false,
  });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

const hashOf = (value) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

async function hashFile(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

/** Newest modification time of the files under `dir` (0 when it does not exist). */
function newestMtime(dir) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** The images copy dist/'s bundles, not sources: rebuild them when missing or older than what they are made of. */
async function ensureBundles() {
  const bundles = ['dist/runtime/index.mjs', 'dist/emulator/index.mjs'].map((file) => join(ROOT, file));
  const oldestBundle = Math.min(...bundles.map((file) => (existsSync(file) ? statSync(file).mtimeMs : 0)));
  const newestSource = Math.max(newestMtime(join(ROOT, 'runtime')), newestMtime(join(ROOT, 'src')), statSync(join(ROOT, 'scripts/build.mjs')).mtimeMs);
  if (oldestBundle >= newestSource) return;
  log('dist/ is missing or stale: npm run build');
  await run('build', 'npm', ['run', 'build']);
  const missing = bundles.filter((file) => !existsSync(file));
  if (missing.length > 0) throw new Error(`npm run build did not produce ${missing.join(', ')}`);
}

let mmdebstrapReady;
async function ensureMmdebstrap() {
  if ((await execa('sh', ['-c', 'command -v mmdebstrap'], { reject: false })).exitCode === 0) return;
  log('installing mmdebstrap with apt-get');
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt', 'apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update', '-qq'], { env });
  await run('apt', 'apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-qq', 'mmdebstrap'], { env });
}

/** A Debian bookworm root filesystem from Debian's packages, imported as an image (reused while its inputs match). */
async function ensureOsImage({ name, include }, workDir) {
  const args = [...MMDEBSTRAP_BASE_ARGS, ...(include.length > 0 ? [`--include=${include.join(',')}`] : [])];
  const inputs = hashOf({ RECIPE_VERSION, args, APT_CONFIG });
  if (!FRESH && (await imageLabel(name, INPUTS_LABEL)) === inputs) {
    log(`${name}: up to date, reused`);
    return;
  }
  const since = Date.now();
  mmdebstrapReady ??= ensureMmdebstrap();
  await mmdebstrapReady;
  const rootfs = join(workDir, name.replace(/[/:]/g, '_'));
  log(`${name}: mmdebstrap bookworm${include.length > 0 ? ` + ${include.join(', ')}` : ''}`);
  await mkdir(rootfs);
  await run(name, 'mmdebstrap', [...args, 'bookworm', rootfs]);
  // Touched up after mmdebstrap, whose own cleanup needs its apt settings: our build-time options leave (apt
  // installs recommends in the image, as in debian:bookworm-slim) and Docker's apt configuration comes in.
  await rm(join(rootfs, 'etc/apt/apt.conf.d/99mmdebstrap'), { force: true });
  for (const [file, lines] of Object.entries(APT_CONFIG)) {
    await writeFile(join(rootfs, 'etc/apt/apt.conf.d', file), `${lines.join('\n')}\n`);
  }
  const tarball = `${rootfs}.tar`;
  await execa('tar', ['--numeric-owner', '--xattrs', '-C', rootfs, '-cf', tarball, '.']);
  await rm(rootfs, { recursive: true, force: true });
  // `docker import` takes Dockerfile instructions for the image's config: give it what debian:bookworm-slim has.
  await docker('import', '-c', `ENV PATH=${OS_PATH}`, '-c', 'CMD ["bash"]', '-c', `LABEL ${INPUTS_LABEL}=${inputs}`, tarball, name);
  await rm(tarball, { force: true });
  log(`${name}: imported (${seconds(since)})`);
}

/** The OS image plus the project's Node.js 24 binary where node:24-bookworm-slim has it. */
async function ensureNodeImage(workDir) {
  if (!NODE_BINARY) throw new Error(`no Node.js binary in node_modules (package node-linux-${process.arch}): run npm ci`);
  const version = (await execa(NODE_BINARY, ['--version'])).stdout.trim();
  const osImageId = await docker('image', 'inspect', '-f', '{{.Id}}', OS_IMAGES[0].name);
  const inputs = hashOf({ RECIPE_VERSION, osImageId, node: await hashFile(NODE_BINARY) });
  if (!FRESH && (await imageLabel(NODE_IMAGE, INPUTS_LABEL)) === inputs) {
    log(`${NODE_IMAGE}: up to date (Node.js ${version}), reused`);
    return;
  }
  const since = Date.now();
  const context = join(workDir, 'node-context');
  await mkdir(context);
  await copyFile(NODE_BINARY, join(context, 'node'));
  await writeFile(
    join(context, 'Dockerfile'),
    [
      `FROM ${OS_IMAGES[0].name}`,
      `LABEL ${INPUTS_LABEL}=${inputs}`,
      `ENV NODE_VERSION=${version.replace(/^v/, '')}`,
      'COPY node /usr/local/bin/node',
      'CMD ["node"]',
      '',
    ].join('\n'),
  );
  log(`${NODE_IMAGE}: adding Node.js ${version}`);
  await run(NODE_IMAGE, 'docker', ['build', '--rm', '--force-rm', '-t', NODE_IMAGE, context]);
  log(`${NODE_IMAGE}: built (${seconds(since)})`);
}

/** `docker build` of one of the project's Dockerfiles, streamed; --force-rm so a failure leaves no container. */
async function build(tag, contextDir, { dockerfile, buildArgs = {} } = {}) {
  const since = Date.now();
  const args = ['build', '--rm', '--force-rm', '-t', tag];
  if (dockerfile) args.push('-f', dockerfile);
  for (const [key, value] of Object.entries(buildArgs)) args.push('--build-arg', `${key}=${value}`);
  log(`${tag}: docker build`);
  const previous = await imageId(tag);
  await run(tag, 'docker', [...args, contextDir]);
  log(`${tag}: built (${seconds(since)})`);
  // A rebuild moves the tag: the image it named before would stay behind untagged, one more per code change.
  // Removed unless something still uses it (a container, another tag: then `docker rmi` refuses, and that is fine).
  if (previous && previous !== (await imageId(tag))) await execa('docker', ['rmi', previous], { reject: false });
}

async function imageId(tag) {
  const result = await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', tag], { reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

async function main() {
  if ((await execa('docker', ['info'], { reject: false })).exitCode !== 0) {
    throw new Error('no Docker engine answers: start one first (bash scripts/ensure-docker.sh)');
  }
  await ensureBundles();

  const workDir = await mkdtemp(join(tmpdir(), 'lambkin-images-'));
  try {
    // The two root filesystems are independent downloads: make them side by side.
    await Promise.all(OS_IMAGES.map((image) => ensureOsImage(image, workDir)));
    await ensureNodeImage(workDir);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }

  await build('lambkin/nodejs:24', '.', { buildArgs: { BASE_IMAGE: NODE_IMAGE } });
  await build('lambkin/provided:latest', '.', {
    dockerfile: 'images/provided/Dockerfile',
    buildArgs: { BASE_IMAGE: OS_IMAGES[1].name, NODE_IMAGE },
  });
  await build('lambkin-example/nodejs:latest', 'images/examples/nodejs');
  await build('lambkin-example/provided:latest', 'images/examples/provided');

  const sizes = await docker('image', 'ls', '--format', '{{.Repository}}:{{.Tag}}\t{{.Size}}', '--filter', 'reference=lambkin*/*');
  log(
    `images:\n${sizes
      .split('\n')
      .map((line) => `  ${line}`)
      .join('\n')}`,
  );
  log(`done in ${seconds(started)}`);
}

main().catch((error) => {
  console.error(`build-images: ${error.shortMessage ?? error.message}`);
  process.exit(1);
});
