// The `lambkin` command: thin, it parses the subcommand and hands over to the module that does the work.
// Each command is loaded only when it runs: `lambkin invoke` does not pay for loading dockerode and pino.

const USAGE = `usage: lambkin <command> [arguments]

commands:
  serve [flags]                           a local Lambda service on Docker: the Lambda API (the AWS SDK and CLI work
                                          against it) on --port (default 9000), functions kept in --data-dir
                                          (default ./.lambkin); --image IMG answers the RIE's invoke path
  invoke FUNCTION [flags]                 invoke a function of a running lambkin serve; the result on stdout,
                                          the function error and --log-type Tail's log on stderr
  logs FUNCTION [--follow]                print a function's log lines (START, its output, END, REPORT)
  status [--json]                         the functions of a running lambkin serve, their environments (busy,
                                          idle, starting, provisioned) and the concurrency and memory in use
  build [DIR] [-t TAG] [flags]            build a function image on lambkin's base images (a Dockerfile is
                                          generated when DIR has none); progress as it streams
  package [DIR] [-o function.zip]         a deployment zip of DIR, checked against Lambda's limits (50 MB zipped,
                                          250 MB unzipped with --layer zips) before it is written
  layer [DIR] [-o layer.zip]              a layer zip, laid out as Lambda unpacks it under /opt
                                          (nodejs/node_modules/..., bin/...)
  push IMAGE --to URI [flags]             tag a local image and push it to a registry (Amazon ECR logs in
                                          itself with your AWS credentials); prints the digest
  emulate [flags] [bootstrap [args...]]   run one function with the RIE-compatible emulator, here, without Docker:
                                          POST /2015-03-31/functions/function/invocations on
                                          --runtime-interface-emulator-address (default 0.0.0.0:8080)
  help                                    this text

\`lambkin serve --help\` (and invoke, logs, status, build, package, layer, push) lists a command's flags.`;

const COMMANDS: Record<string, () => Promise<{ main: (args: string[]) => void }>> = {
  serve: () => import('./serve.ts'),
  invoke: () => import('./invoke.ts'),
  logs: () => import('./logs.ts'),
  status: () => import('./status.ts'),
  build: () => import('./build.ts'),
  package: () => import('./package.ts'),
  layer: () => import('./layer.ts'),
  push: () => import('./push.ts'),
  emulate: () => import('../emulator/index.ts'),
};

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case undefined:
  case 'help':
  case '--help':
  case '-h':
    process.stdout.write(`${USAGE}\n`);
    break;
  default:
    if (Object.hasOwn(COMMANDS, command)) {
      const { main } = await COMMANDS[command]!();
      main(rest);
    } else {
      process.stderr.write(`lambkin: unknown command '${command}'\n\n${USAGE}\n`);
      process.exitCode = 2;
    }
}
