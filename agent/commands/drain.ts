import type { Argv } from 'yargs';
import { parseDuration } from '../config/units.ts';
import { AgentError } from '../errors.ts';
import { adminRequest, fail, remoteOptions } from './common.ts';
import { withOptions, type OptionRow } from '../util/option-table.ts';

export const drainOptions: readonly OptionRow[] = [
  ...remoteOptions,
  { flag: 'timeout', describe: "drain deadline (default: the agent's --drain-timeout)" },
];

/** `wn-agent drain`: asks the agent to drain (POST /v1/drain) and prints its answer; exit 0 when accepted. */
export const drainCommand = {
  command: 'drain',
  describe: 'drain this worker (no new jobs; running jobs finish or are vacated at the deadline), then exit',
  builder: (y: Argv) => withOptions(y, drainOptions),
  handler: async (argv: Record<string, unknown>): Promise<void> => {
    const timeout = argv.timeout as string | undefined;
    if (timeout !== undefined && parseDuration(timeout) === undefined)
      fail(new AgentError('WN_ERR_CONFIG', `--timeout: expected a duration such as 10m, got ${JSON.stringify(timeout)}`));
    const query = timeout === undefined ? '' : `?timeout=${encodeURIComponent(timeout)}`;
    const { status, body } = await adminRequest(argv, 'POST', `/v1/drain${query}`);
    process.stdout.write(`${JSON.stringify(body)}\n`);
    process.exit(status === 202 ? 0 : 1);
  },
};
