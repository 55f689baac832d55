// The runtimes AWS Lambda supports, as its validation messages name them.

/**
 * The runtimes AWS accepts today for a function's Runtime and a layer's CompatibleRuntimes, in the order its messages
 * list them (recorded from AWS in LocalStack's test_lambda_api.snapshot.json: TestLambdaLayer::test_layer_exceptions,
 * TestLambdaFunction::test_create_lambda_exceptions). AWS checks these against the runtimes it supports, not against
 * the API model's enum (which keeps the retired ones); the model does not carry them, so they are kept here.
 */
export const AWS_SUPPORTED_RUNTIMES = [
  'nodejs20.x',
  'python3.14',
  'provided.al2023',
  'python3.12',
  'python3.13',
  'nodejs24.x',
  'nodejs22.x',
  'java25',
  'python3.10',
  'python3.11',
  'java21',
  'ruby3.3',
  'ruby3.4',
  'ruby3.2',
  'python3.8',
  'python3.9',
  'java17',
  'nodejs16.x',
  'dotnet10',
  'dotnet8',
  'java11',
  'dotnet6',
  'nodejs18.x',
  'provided.al2',
  'java8.al2',
];
