import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { waitFor } from '../../agent/util/wait.ts';
import { podman } from '../support/exec.ts';
import { testPool as pool, type Worker } from '../support/pool.ts';

// A real worker whose admin port is published on the host's loopback; clients are real websocket clients.

const token = 'it-event-stream-token-0123456789';
let worker: Worker;
let base: string;

function connect(query = '', auth = token): { ws: WebSocket; got: Record<string, unknown>[]; opened: Promise<void> } {
  const ws = new WebSocket(`${base}/v1/events${query}`, { headers: { authorization: `Bearer ${auth}` } });
  const got: Record<string, unknown>[] = [];
  ws.on('message', (data) => got.push(JSON.parse(data.toString()) as Record<string, unknown>));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, got, opened };
}

const until = <T>(probe: () => T | undefined, what: string, timeoutMs = 120_000): Promise<T> =>
  waitFor(async () => probe(), { timeoutMs, intervalMs: 200, what });

beforeAll(async () => {
  worker = await pool.startWorker({
    mounts: [pool.passwordMount, pool.testConfigMount],
    env: { WN_ADMIN_TOKEN: token },
    podmanArgs: ['-p', '127.0.0.1::9680'],
  });
  await worker.waitForEvent('startd-advertised');
  const port = (await podman(['port', worker.name, '9680/tcp'])).trim().split(':').at(-1);
  base = `ws://127.0.0.1:${port}`;
});
afterAll(async () => {
  await worker.remove();
});

describe('the event stream of a running worker', () => {
  let firstSeq = 0;

  it('shows a job start and finish with its job ID and the task ID', async () => {
    const client = connect('?type=job-started,job-finished');
    await client.opened;
    const cluster = await pool.submit(
      [
        'executable = /bin/sleep',
        'transfer_executable = False',
        'arguments = 3',
        'should_transfer_files = YES',
        'log = ev.log',
        `requirements = ContainerTaskId == "${worker.name}"`,
        'queue',
        '',
      ].join('\n'),
    );
    const finished = await until(
      () => client.got.find((e) => e.type === 'job-finished' && e.jobId === `${cluster}.0`),
      'job-finished event',
    );
    const started = client.got.find((e) => e.type === 'job-started' && e.jobId === `${cluster}.0`);
    expect(started).toMatchObject({ severity: 'info', taskId: worker.name, containerId: await worker.id(), slot: 'slot1_1' });
    expect(finished).toMatchObject({ taskId: worker.name, isolationVerified: true, oomKilled: false });
    expect(Number(finished.seq)).toBeGreaterThan(Number(started?.seq));
    firstSeq = Number(started?.seq);
    client.ws.close();
  });

  it('the token reaches none of the processes HTCondor runs (their environment in /proc)', async () => {
    const environs = await worker.exec([
      'sh',
      '-c',
      'for p in $(pgrep condor_); do echo "== $p $(cat /proc/$p/comm)"; tr "\\0" "\\n" < /proc/$p/environ; done',
    ]);
    expect(environs).toMatch(/== \d+ condor_master\n/);
    expect(environs).toMatch(/== \d+ condor_startd\n/);
    expect(environs).toContain('PATH=');
    expect(environs).not.toContain(token);
    expect(environs).not.toContain('WN_');
  });

  it('refuses a wrong token', async () => {
    const client = connect('', 'not-the-token-not-the-token');
    await expect(client.opened).rejects.toThrow(/401/);
  });

  it('after a reconnect with ?since= an earlier seq, every later event comes again', async () => {
    const client = connect(`?since=${firstSeq - 1}`);
    await client.opened;
    const events = await until(
      () => {
        const seqs = client.got.filter((e) => typeof e.seq === 'number' && e.type !== 'hello').map((e) => Number(e.seq));
        return seqs.length > 5 ? seqs : undefined;
      },
      'replayed events',
      10_000,
    );
    expect(events[0]).toBe(firstSeq);
    expect(events).toEqual([...events].sort((a, b) => a - b));
    expect(new Set(events).size).toBe(events.length);
    expect(client.got.some((e) => e.type === 'job-started' && e.seq === firstSeq)).toBe(true);
    client.ws.close();
  });

  it('`wn-agent tail` prints the same events readably', async () => {
    const out = await worker.exec([
      'wn-agent',
      'tail',
      '--since',
      String(firstSeq - 1),
      '--type',
      'job-started,job-finished',
      '--count',
      '2',
    ]);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\s*${firstSeq} \\d{4}-\\d\\d-\\d\\d [\\d:]+Z INFO  job-started \\[slot1_1\\] job \\d+\\.0: job \\d+\\.0 started in jobs/slot1_1`,
      ),
    );
    expect(lines[1]).toMatch(/INFO {2}job-finished \[slot1_1\] job \d+\.0: job \d+\.0 finished in jobs\/slot1_1/);
  });

  it('status and drain over the network need the token', async () => {
    const http = base.replace('ws://', 'http://');
    expect((await fetch(`${http}/v1/status`)).status).toBe(401);
    const status = await fetch(`${http}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      state: 'running',
      advertised: true,
      slots: [expect.objectContaining({ state: 'Unclaimed' })],
    });
  });

  it('`wn-agent status` shows one screen: state, slots, jobs, counters', async () => {
    const screen = await worker.exec(['wn-agent', 'status']);
    expect(screen).toMatch(/^wn-agent {2}running {2}up \d+s {2}advertised {2}master restarts 0\n/);
    expect(screen).toMatch(/jobs: started 1, finished 1, OOM-killed 0, vacated 0/);
    expect(screen).toMatch(new RegExp(`slots:\\n  slot1@${worker.name}-[0-9a-f]{12}  Unclaimed/Idle`));
    expect(screen).toContain('running jobs:\n  none');
  });
});
