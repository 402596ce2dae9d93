#!/usr/bin/env node
/**
 * The command line: maps argv and WN_* variables onto one typed configuration and calls the library.
 * Every option also reads WN_<OPTION> (yargs .env('WN')); validation lives in config/parse.ts.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { defaults } from './config/options.ts';
import { parseConfig, type RawOptions } from './config/parse.ts';
import { AgentError, ExitCode } from './errors.ts';
import { runAgent } from './lifecycle/run.ts';
import { createLogger } from './log/logger.ts';
import { agentVersion } from './version.ts';

function fail(error: AgentError): never {
  // Config errors happen before the logger exists; one JSON line on stderr and one for people.
  process.stderr.write(`wn-agent: ${error.message}\n`);
  process.stderr.write(`${JSON.stringify({ level: 'fatal', code: error.code, msg: error.message })}\n`);
  process.exit(error.exitCode);
}

async function run(raw: RawOptions): Promise<void> {
  let config;
  try {
    config = parseConfig(raw, process.env);
  } catch (error) {
    if (error instanceof AgentError) fail(error);
    throw error;
  }
  const { logger, flush } = createLogger(config.logLevel);
  const summary = await runAgent(config, logger);
  logger.info({ event: 'summary', ...summary }, `wn-agent exiting: ${summary.reason}`);
  flush();
  process.exit(summary.exitCode);
}

await yargs(hideBin(process.argv))
  .scriptName('wn-agent')
  .env('WN')
  .version(agentVersion)
  .strict()
  .command(
    ['run', '$0'],
    'run the worker node: HTCondor startd in this container, joined to the pool at CONDOR_HOST',
    (y) =>
      y
        .option('condor-host', { type: 'string', describe: 'central manager, host[:port] (also CONDOR_HOST)' })
        .option('state-dir', { type: 'string', describe: `agent state: HTCondor config, logs, spool, execute (default ${defaults.stateDir})` })
        .option('pool-password-file', { type: 'string', describe: `pool password as mounted (default ${defaults.poolPasswordFile})` })
        .option('token-dir', { type: 'string', describe: `IDTOKENS as mounted (default ${defaults.tokenDir})` })
        .option('site-config-dir', { type: 'string', describe: `extra HTCondor config files, included last (default ${defaults.siteConfigDir})` })
        .option('cpus', { type: 'string', describe: 'CPUs of the partitionable slot (default: detected)' })
        .option('memory', { type: 'string', describe: 'memory of the partitionable slot: MiB or 4G, 512Mi (default: detected)' })
        .option('startup-timeout', { type: 'string', describe: `how long the startd may take to appear in the collector (default ${defaults.startupTimeout})` })
        .option('stop-timeout', { type: 'string', describe: `graceful HTCondor shutdown before fast shutdown (default ${defaults.stopTimeout})` })
        .option('update-interval', { type: 'string', describe: `startd ad updates to the collector (default ${defaults.updateInterval}s)` })
        .option('log-level', { type: 'string', describe: `trace, debug, info, warn, error (default ${defaults.logLevel})` }),
    (argv) => run(argv as RawOptions),
  )
  .fail((message, error) => {
    if (error) throw error;
    fail(new AgentError('WN_ERR_CONFIG', message));
  })
  .help()
  .parseAsync()
  .catch((error: unknown) => {
    process.stderr.write(`wn-agent: internal error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(ExitCode.internal);
  });
