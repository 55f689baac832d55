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

/**
 * The runtimes AWS has retired for creating and updating functions, each refused with its own message (recorded from
 * AWS in LocalStack's test_lambda_api.snapshot.json: TestRuntimeValidation::
 * test_create_deprecated_function_runtime_with_validation_enabled, 2026-01).
 */
export const DEPRECATED_RUNTIMES = ['java8', 'go1.x', 'provided', 'ruby2.7', 'nodejs14.x', 'python3.7', 'dotnetcore3.1', 'nodejs12.x'];

/** AWS's words (InvalidParameterValueException) for a Runtime in DEPRECATED_RUNTIMES. */
export const deprecatedRuntimeMessage = (runtime: string) =>
  `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. ` +
  'We recommend you use a supported runtime while creating or updating functions.';
