// `lambkin package` and `lambkin layer` answer a broken deployment limit the same way: Lambda's message on stderr
// and exit 1 (not a usage error, nor a crash), so a script can tell "too big" from "lambkin failed".
import { DeploymentLimitError } from '../packaging/deployment-limits.ts';

/** Runs a packaging step; over one of Lambda's deployment limits, `lambkin <command>: <message>` on `err` and 1. */
export async function exitOneOverLimits(command: string, err: NodeJS.WritableStream, step: () => Promise<number>): Promise<number> {
  try {
    return await step();
  } catch (error) {
    if (!(error instanceof DeploymentLimitError)) throw error;
    err.write(`lambkin ${command}: ${error.message}\n`);
    return 1;
  }
}
