// Packaging: function images (lambkin build), deployment zips and layers (lambkin package, lambkin layer), and
// pushes to a registry, Amazon ECR included (lambkin push). The CLI commands are thin over these.
export { buildFunctionImage, defaultImageTag, ImageBuildError, type BuildFunctionImageOptions, type BuiltImage } from './image-build.ts';
export { BASE_IMAGES, BUILD_RUNTIMES, type BuildRuntime } from './function-dockerfile.ts';
export { packageFunction } from './zip-package.ts';
export { packageLayer, type LayerResult } from './layer-package.ts';
export { checkDeploymentLimits, DeploymentLimitError, MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES } from './deployment-limits.ts';
export { pushImage, PushError, type PushOptions, type PushResult } from './push.ts';
export { ecrLogin, EcrLoginError, ECR_ENDPOINT_ENV, parseEcrRegistry } from './ecr-login.ts';
export { registryAuthFor } from './registry-auth.ts';
