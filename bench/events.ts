import { WebSocket } from 'ws';
import { podman } from '../test/support/exec.ts';
import type { TestPool } from '../test/support/pool.ts';
import { waitFor } from '../agent/util/wait.ts';
import { agentUsage } from './process-usage.ts';
import { median, percentile, round } from './stats.ts';

export interface EventStreamResult {
  clients: number;
  jobs: number;
  seconds: number;
  /** Events the agent produced in the window (highest seq seen - first), and what the fast clients received in all. */
  eventsProduced: number;
  deliveredPerSecond: number;
  /** Every fast client got every event of the window, in order. */
  fastClientsComplete: number;
  /** Event time until a fast client had it, over all fast clients and events. */
  lagMs: { p50: number; p99: number };
  slowClient: { closeCode?: number; received: number };
  rssBeforeMiB: number;
  rssPeakMiB: number;
}

const token = 'bench-event-stream-token-0123456789';

interface Client {
  ws: WebSocket;
  seqs: number[];
  lags: number[];
  closeCode?: number;
}

function connect(base: string, slow: boolean): Promise<Client> {
  const client: Client = { ws: new WebSocket(`${base}/v1/events`, { headers: { authorization: `Bearer ${token}` } }), seqs: [], lags: [] };
  client.ws.on('message', (data) => {
    const event = JSON.parse(data.toString()) as { seq: number; time: string };
    client.seqs.push(event.seq);
    client.lags.push(Date.now() - Date.parse(event.time));
  });
  client.ws.on('close', (code) => (client.closeCode = code));
  return new Promise((resolve, reject) => {
    client.ws.once('open', () => {
      // The slow client stops reading from its socket: the agent's buffer for it grows until it is cut off.
      if (slow) (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      resolve(client);
    });
    client.ws.once('error', reject);
  });
}

/** `clients` websocket clients (one of them never reads) on one worker while it runs `jobs` short jobs. */
export async function eventStream(pool: TestPool, clients: number, jobs: number): Promise<EventStreamResult> {
  const worker = await pool.startWorker({
    name: `wn-${pool.name}-events`,
    mounts: [pool.passwordMount, pool.testConfigMount],
    env: { WN_ADMIN_TOKEN: token },
    podmanArgs: ['-p', '127.0.0.1::9680'],
  });
  try {
    await worker.waitForEvent('startd-advertised');
    const port = (await podman(['port', worker.name, '9680/tcp'])).trim().split(':').at(-1);
    const base = `ws://127.0.0.1:${port}`;
    const fast = await Promise.all(Array.from({ length: clients - 1 }, () => connect(base, false)));
    const slow = await connect(base, true);
    const before = await agentUsage(worker);
    let peak = before.rssMiB;
    const t0 = Date.now();
    const cluster = await pool.submit(
      [
        'executable = /bin/true',
        'transfer_executable = False',
        'should_transfer_files = YES',
        'log = ev.log',
        `requirements = ContainerTaskId == "${worker.name}"`,
        `queue ${jobs}`,
        '',
      ].join('\n'),
    );
    await waitFor(
      async () => {
        peak = Math.max(peak, (await agentUsage(worker)).rssMiB);
        return (await pool.history(`ClusterId == ${cluster}`, ['ProcId'])).length >= jobs ? true : undefined;
      },
      { timeoutMs: 30 * 60_000, intervalMs: 1000, what: 'event stream benchmark jobs done' },
    );
    // The last job-finished event reaches every fast client: then the window closes.
    await worker.waitForEvent('job-finished', (l) => l.jobId === `${cluster}.${jobs - 1}`, 60_000).catch(() => undefined);
    await waitFor(
      async () => (fast.every((c) => c.seqs.length > 0 && (c.seqs.at(-1) ?? 0) >= (fast[0]?.seqs.at(-1) ?? 0)) ? true : undefined),
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: 'fast clients caught up',
      },
    );
    const seconds = (Date.now() - t0) / 1000;
    const first = Math.min(...fast.map((c) => c.seqs[0] ?? Infinity));
    const highest = Math.max(...fast.map((c) => c.seqs.at(-1) ?? 0));
    const complete = fast.filter((c) => c.seqs.every((seq, i) => i === 0 || seq === (c.seqs[i - 1] ?? 0) + 1)).length;
    const lags = fast.flatMap((c) => c.lags);
    const result: EventStreamResult = {
      clients,
      jobs,
      seconds: round(seconds),
      eventsProduced: highest - first + 1,
      deliveredPerSecond: round(fast.reduce((n, c) => n + c.seqs.length, 0) / seconds),
      fastClientsComplete: complete,
      lagMs: { p50: round(median(lags)), p99: round(percentile(lags, 99)) },
      slowClient: { ...(slow.closeCode === undefined ? {} : { closeCode: slow.closeCode }), received: slow.seqs.length },
      rssBeforeMiB: round(before.rssMiB),
      rssPeakMiB: round(peak),
    };
    for (const c of [...fast, slow]) c.ws.terminate();
    return result;
  } finally {
    await worker.remove();
  }
}
