import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../agent/util/wait.ts';
import { testPool as pool, type Worker } from '../support/pool.ts';

// A site health check on a real worker in the real pool: a check that fails while a flag file exists (as a site's
// check fails while its software area is missing). Failing, it must stop new jobs on every slot while a running job
// goes on; recovered, the waiting job runs.

const dir = `/var/tmp/wn-health-${randomBytes(3).toString('hex')}`;
let worker: Worker;
let machine: string;

beforeAll(async () => {
  await mkdir(`${dir}/checks`, { recursive: true });
  const check = [
    '#!/bin/sh',
    '# A site check: the software area must be there.',
    'if [ -e /etc/wn-test/broken ]; then echo "software area /cvmfs/sw missing"; exit 1; fi',
    'exit 0',
  ].join('\n');
  await writeFile(`${dir}/checks/10-software-area`, `${check}\n`);
  await chmod(`${dir}/checks/10-software-area`, 0o755);
  worker = await pool.startWorker({
    mounts: [pool.passwordMount, pool.testConfigMount, `${dir}/checks:/etc/wn-agent/health.d:ro`],
    agentArgs: ['--health-check-dir', '/etc/wn-agent/health.d', '--health-check-interval', '3s', '--cpus', '2'],
  });
  await worker.waitForEvent('startd-advertised');
  machine = `${worker.name}-${(await worker.id()).slice(0, 12)}`;
});
afterAll(async () => {
  await worker?.remove();
  await rm(dir, { recursive: true, force: true });
});

const slotHealth = async (): Promise<string[][]> =>
  pool.status(`Machine == "${machine}" && PartitionableSlot`, ['WnHealthy', 'WnUnhealthyReasons']);

async function get(path: string): Promise<{ status: number; body: string }> {
  const out = await worker.exec([
    'node',
    '-e',
    `fetch("http://127.0.0.1:9680${path}").then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })))`,
  ]);
  return JSON.parse(out) as { status: number; body: string };
}

function sleepJob(seconds: number): string {
  return [
    'executable = /bin/sleep',
    'transfer_executable = False',
    `arguments = ${seconds}`,
    'should_transfer_files = YES',
    'log = health.log',
    'request_memory = 64',
    `requirements = Machine == "${machine}"`,
    'queue',
    '',
  ].join('\n');
}

describe('site health checks (--health-check-dir)', () => {
  it('a failing check closes START on every slot (a running job goes on), says why everywhere; recovery reopens it', async () => {
    await waitFor(async () => ((await slotHealth())[0]?.[0] === 'true' ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 1000,
      what: 'WnHealthy true in condor_status',
    });
    const running = await pool.submit(sleepJob(150)); // long enough to run through the whole unhealthy spell
    await pool.waitForQueue(running, 'JobStatus == 2', ['JobStatus']);

    await worker.exec(['sh', '-c', 'mkdir -p /etc/wn-test && touch /etc/wn-test/broken']);
    const [healthy, reasons] = await waitFor(
      async () => {
        const row = (await slotHealth())[0];
        return row?.[0] === 'false' ? row : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'WnHealthy false in condor_status' },
    );
    expect(healthy).toBe('false');
    expect(reasons).toContain('10-software-area');
    expect(reasons).toContain('software area /cvmfs/sw missing');
    expect(await worker.waitForEvent('health-check-failed')).toMatchObject({ check: '10-software-area' });
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toContain('software area /cvmfs/sw missing');
    expect((await get('/metrics')).body).toMatch(/^wn_agent_healthy 0$/m);

    // A new job, with a free core on the worker, is considered by the negotiator and not matched.
    const waiting = await pool.submit(sleepJob(1));
    await pool.waitForQueue(waiting, 'LastRejMatchTime =!= undefined', ['JobStatus'], 1, 120_000);
    expect((await pool.waitForQueue(waiting, 'JobStatus == 1', ['NumJobStarts']))[0]).toEqual(['0']);
    expect((await pool.waitForQueue(running, 'JobStatus == 2', ['JobStatus']))[0]).toEqual(['2']); // untouched

    await worker.exec(['rm', '/etc/wn-test/broken']);
    expect(await worker.waitForEvent('health-check-recovered')).toMatchObject({ check: '10-software-area' });
    const [done] = await pool.waitForHistory(waiting, 1, ['JobStatus', 'ExitCode'], 120_000);
    expect(done).toEqual(['4', '0']);
    const [first] = await pool.waitForHistory(running, 1, ['JobStatus', 'ExitCode', 'NumJobStarts'], 300_000);
    expect(first).toEqual(['4', '0', '1']);
    expect((await slotHealth())[0]?.[0]).toBe('true');
    expect((await get('/readyz')).status).toBe(200);
  });
});
