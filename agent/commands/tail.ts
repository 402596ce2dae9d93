import type { Argv } from 'yargs';
import { AgentError } from '../errors.ts';
import { clientToken, fail, failWith } from './common.ts';
import { withOptions, type OptionRow } from '../util/option-table.ts';

export const tailOptions: readonly OptionRow[] = [
  { flag: 'url', default: 'ws://127.0.0.1:9680', describe: "the agent's admin address (ws:// or wss://)" },
  { flag: 'admin-token', describe: 'the token (also WN_ADMIN_TOKEN)' },
  { flag: 'admin-token-file', describe: 'file holding the token (first line)' },
  { flag: 'type', describe: 'only these event types, comma-separated (job-started,job-finished,...)' },
  { flag: 'severity', describe: 'at least this severity (info, warn, error)' },
  { flag: 'daemon', describe: 'only lines of these HTCondor daemons (startd,starter,...)' },
  { flag: 'since', describe: 'replay from after this sequence number' },
  { flag: 'count', describe: 'exit after this many events' },
  { flag: 'json', type: 'boolean', default: false, describe: 'JSON lines instead of readable lines' },
];

function wholeNumber(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(String(value)))
    fail(new AgentError('WN_ERR_CONFIG', `--${flag}: expected a whole number, got ${JSON.stringify(value)}`));
  return Number(value);
}

/** `wn-agent tail`: the event stream, reconnecting after a dropped connection without losing buffered events. */
export const tailCommand = {
  command: 'tail',
  describe: "follow the agent's events over its websocket (reconnects without losing buffered events)",
  builder: (y: Argv) => withOptions(y, tailOptions),
  handler: async (argv: Record<string, unknown>): Promise<void> => {
    const token = clientToken(argv);
    if (!token)
      fail(new AgentError('WN_ERR_CONFIG', '--admin-token (WN_ADMIN_TOKEN) or --admin-token-file: the event stream needs the token'));
    const since = wholeNumber('since', argv.since);
    const count = wholeNumber('count', argv.count);
    let url: URL;
    try {
      url = new URL(String(argv.url));
    } catch {
      return fail(new AgentError('WN_ERR_CONFIG', `--url: expected ws://host:port or wss://host:port, got ${JSON.stringify(argv.url)}`));
    }
    const { tail } = await import('../admin/tail.ts');
    await tail({
      url: url.href,
      token,
      types: argv.type as string | undefined,
      severity: argv.severity as string | undefined,
      daemon: argv.daemon as string | undefined,
      since,
      count,
      json: Boolean(argv.json),
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    }).catch(failWith);
    process.exit(0);
  },
};
