#!/usr/bin/env node
/**
 * The command line: options, then dispatch. Every option also reads WN_<OPTION> (yargs .env('WN')); each command
 * (agent/commands/) declares its options as a table, validates them and imports the code it runs only when it runs.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { drainCommand } from './commands/drain.ts';
import { fleetCommand } from './commands/fleet.ts';
import { fail } from './commands/common.ts';
import { runCommand, takeAttributeEnv, unknownArgumentMessage } from './commands/run.ts';
import { statusCommand } from './commands/status.ts';
import { tailCommand } from './commands/tail.ts';
import { AgentError, ExitCode } from './errors.ts';
import { agentVersion } from './version.ts';

// The image's wrapper points Node at the code cache made at build time; the agent's children have no use for it.
delete process.env.NODE_COMPILE_CACHE;
const attributeEnv = takeAttributeEnv(process.env);

// `wn-agent run ...` (the image's CMD) goes to the default command as if `run` were not there: yargs renders the whole
// help text (about 35 ms of CPU at every container start) before it runs a command named on the command line, and not
// for the default command. `wn-agent run --help` still shows the run options.
const cliArgs = hideBin(process.argv);
if (cliArgs[0] === 'run' && !cliArgs.includes('--help')) cliArgs.shift();

await yargs(cliArgs)
  .scriptName('wn-agent')
  .env('WN')
  .version(agentVersion)
  .command(runCommand(attributeEnv))
  .command(drainCommand)
  .command(tailCommand)
  .command(statusCommand)
  .command(fleetCommand)
  .fail((message, error) => {
    if (error) throw error;
    fail(new AgentError('WN_ERR_CONFIG', unknownArgumentMessage(message, process.env)));
  })
  .help()
  .parseAsync()
  .catch((error: unknown) => {
    process.stderr.write(`wn-agent: internal error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(ExitCode.internal);
  });
