import { WebSocket } from 'ws';
import { AgentError } from '../errors.ts';
import { delay } from '../util/wait.ts';

export interface TailOptions {
  url: string;
  token: string;
  types?: string | undefined;
  severity?: string | undefined;
  daemon?: string | undefined;
  since?: number | undefined;
  json: boolean;
  /** Stop after this many events (scripts and tests); undefined: follow forever. */
  count?: number | undefined;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** One event as a person reads it: time, severity, type, where it came from, the job, the message. */
export function prettyEvent(event: Record<string, unknown>): string {
  const time = String(event.time ?? '')
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  const where = [event.daemon, event.slot].filter(Boolean).join('/');
  const job = event.jobId ? ` job ${String(event.jobId)}` : '';
  return `${String(event.seq).padStart(6)} ${time} ${String(event.severity ?? '')
    .toUpperCase()
    .padEnd(5)} ${String(event.type)}${where ? ` [${where}]` : ''}${job}: ${String(event.msg ?? '')}`;
}

/**
 * Follows /v1/events; after a dropped connection it reconnects with ?since=<last seq seen>, so nothing still in the
 * agent's backlog is lost. Resolves when `count` events were printed, rejects when the token is refused.
 */
export async function tail(options: TailOptions): Promise<void> {
  let last = options.since;
  let printed = 0;
  let backoff = 500;
  for (;;) {
    const url = new URL('/v1/events', options.url);
    for (const [name, value] of [
      ['type', options.types],
      ['severity', options.severity],
      ['daemon', options.daemon],
    ] as const)
      if (value) url.searchParams.set(name, value);
    if (last !== undefined) url.searchParams.set('since', String(last));
    const outcome = await new Promise<'done' | 'closed' | Error>((resolve) => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${options.token}` } });
      ws.on('unexpected-response', (_req, res) => {
        const said = `HTTP ${res.statusCode ?? '?'} ${res.statusMessage ?? ''}`.trim();
        // A refused token is the caller's configuration; any other answer is no event stream at that address.
        resolve(
          res.statusCode === 401 || res.statusCode === 403
            ? new AgentError('WN_ERR_CONFIG', `the agent refused the admin token: ${said}`)
            : new AgentError('WN_ERR_UNREACHABLE', `no event stream at ${options.url}: ${said}`),
        );
      });
      ws.on('error', () => resolve('closed'));
      ws.on('close', (code, reason) => {
        if (code !== 1000 && code !== 1005)
          options.err(`wn-agent tail: connection closed (${code} ${reason.toString()}); reconnecting from seq ${String(last ?? 0)}`);
        resolve('closed');
      });
      ws.on('open', () => (backoff = 500));
      ws.on('message', (data) => {
        const event = JSON.parse(data.toString()) as Record<string, unknown>;
        if (event.type === 'hello') return;
        if (event.type === 'gap') return options.err(`wn-agent tail: ${String(event.msg)}`);
        if (typeof event.seq === 'number') last = event.seq;
        options.out(options.json ? JSON.stringify(event) : prettyEvent(event));
        printed += 1;
        if (options.count !== undefined && printed >= options.count) {
          ws.close(1000);
          resolve('done');
        }
      });
    });
    if (outcome === 'done') return;
    if (outcome instanceof Error) throw outcome;
    await delay(backoff);
    backoff = Math.min(10_000, backoff * 2);
  }
}
