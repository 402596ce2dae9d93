import type { Argv } from 'yargs';
import { adminRequest, remoteOptions } from './common.ts';
import { withOptions, type OptionRow } from '../util/option-table.ts';

export const statusOptions: readonly OptionRow[] = [
  ...remoteOptions,
  { flag: 'json', type: 'boolean', default: false, describe: 'the JSON from GET /v1/status' },
];

/** `wn-agent status`: one screen from GET /v1/status (or its JSON); exit 0 when the agent answered 200. */
export const statusCommand = {
  command: 'status',
  describe: 'one screen: state, slots, running jobs with their cgroup figures, CVMFS health, idle countdown or drain progress',
  builder: (y: Argv) => withOptions(y, statusOptions),
  handler: async (argv: Record<string, unknown>): Promise<void> => {
    const { status, body } = await adminRequest(argv, 'GET', '/v1/status');
    const { statusScreen } = await import('../admin/status-screen.ts');
    process.stdout.write(
      argv.json || status !== 200 ? `${JSON.stringify(body, null, 2)}\n` : statusScreen(body as Record<string, unknown>),
    );
    process.exit(status === 200 ? 0 : 1);
  },
};
