// The managed runtimes lambkin serve knows, and the base image a zip function of each one runs on.

const RUNTIME_IMAGES: Record<string, string> = {
  'nodejs24.x': 'lambkin/nodejs:24',
  'provided.al2023': 'lambkin/provided:latest',
};

export const SUPPORTED_RUNTIMES = Object.keys(RUNTIME_IMAGES);

/** The base image for `runtime`, or undefined when lambkin has none. */
export function runtimeImage(runtime: string): string | undefined {
  return Object.hasOwn(RUNTIME_IMAGES, runtime) ? RUNTIME_IMAGES[runtime] : undefined;
}
