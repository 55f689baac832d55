import { defineConfig } from 'vitest/config';

// Three lanes, by what a test file needs besides Node.js. `npm test` (and CI) runs them all; `npm run test:unit`
// runs the first, `npm run test:local` the first two (`vitest run --project <name>` picks any).
// - unit: nothing: in-process code, fakes (test/support/fake-backend.ts), loopback sockets. Seconds.
// - local: child processes or heavy work on this machine, no Docker: the built runtime, emulator and CLI bundles
//   (dist/: build first), machine tools (zip, sh + curl, aws-lambda-ric's native build), 100,001-entry zips.
// - docker: a Docker engine (and lambkin's images): containers, `lambkin serve`, image builds, a registry.
// A file goes in `unit` or `docker` by name; any other file is `local`.
const unit = [
  'test/cli-status.test.ts',
  'test/environments-container-spec.test.ts',
  'test/environments-network.test.ts',
  'test/filter-criteria.test.ts',
  'test/delivery-due-index.test.ts',
  'test/delivery-event-queue.test.ts',
  'test/environments-pool.test.ts',
  'test/http-plumbing.test.ts',
  'test/invoke-payload.test.ts',
  'test/hybrid-keep-alive.test.ts',
  'test/pool-lifecycle.test.ts',
  'test/runtime-api-server.test.ts',
  'test/runtime-http1-parser.test.ts',
  'test/scheduling.test.ts',
  'test/telemetry-frames.test.ts',
  'test/service-control-plane.test.ts',
  'test/service-image-function.test.ts',
  'test/service-lifecycle.test.ts',
  'test/service-metrics.test.ts',
  'test/service-validation.test.ts',
  'test/trace-simulator.test.ts',
];
const docker = [
  'test/emulator-docker.test.ts',
  'test/environments-docker.test.ts',
  'test/environments-ephemeral-storage.test.ts',
  'test/environments-isolation.test.ts',
  'test/environments-liveness.test.ts',
  'test/images.test.ts',
  'test/packaging-build.test.ts',
  'test/packaging-push.test.ts',
  'test/pool-docker.test.ts',
  'test/serve-async-durability.test.ts',
  'test/serve-cli.test.ts',
  'test/serve-layers.test.ts',
  'test/serve-ric-image.test.ts',
  'test/serve-scaling.test.ts',
  'test/serve-environment.test.ts',
  'test/serve-image-function.test.ts',
  'test/serve-telemetry.test.ts',
  'test/serve-versions.test.ts',
  'test/service-shutdown.test.ts',
];

export default defineConfig({
  test: {
    // Tests start real processes and real containers: give them room, and run files in forks so a crashing child
    // cannot take the runner with it. Every project inherits these (extends: true).
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 240_000,
    projects: [
      { extends: true, test: { name: 'unit', include: unit } },
      { extends: true, test: { name: 'local', include: ['test/**/*.test.ts'], exclude: [...unit, ...docker] } },
      { extends: true, test: { name: 'docker', include: docker } },
    ],
  },
});
