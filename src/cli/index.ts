// The `lambkin` command: thin, it parses the subcommand and hands over to the module that does the work.
import { main as emulate } from '../emulator/index.ts';

const USAGE = `usage: lambkin <command> [arguments]

commands:
  emulate [flags] [bootstrap [args...]]   run one function with the RIE-compatible emulator, here, without Docker:
                                          POST /2015-03-31/functions/function/invocations on
                                          --runtime-interface-emulator-address (default 0.0.0.0:8080)
  help                                    this text

\`lambkin serve\` (a local Lambda service) is being built; see the README.`;

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'emulate':
    emulate(rest);
    break;
  case undefined:
  case 'help':
  case '--help':
  case '-h':
    process.stdout.write(`${USAGE}\n`);
    break;
  default:
    process.stderr.write(`lambkin: unknown command '${command}'\n\n${USAGE}\n`);
    process.exitCode = 2;
}
