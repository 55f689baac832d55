// How to start a runtime process: the executable, its arguments, and variables to add to its environment. Shared
// by the third-party runtime tests (test/support/third-party-runtime.ts) and aws-lambda-ric's installer here.
export interface RuntimeCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
}
