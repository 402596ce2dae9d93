import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../agent/util/wait.ts';
import { testPool as pool, type Worker } from '../support/pool.ts';

// The execute disk on a real worker: a 64 MiB tmpfs as the execute directory, --min-free-disk 24M. One job writes
// 1 MiB a second into its scratch while a neighbour sleeps beside it. The writer must be held by the startd (the
// way HTCondor holds a job when WANT_HOLD is true at preemption: HoldReasonCode 21) before the disk is full, and the
// neighbour must complete as if nothing happened.

const execute = '/var/lib/wn-agent/condor/execute';
let worker: Worker;
let machine: string;

beforeAll(async () => {
  worker = await pool.startWorker({
    mounts: [pool.passwordMount, pool.testConfigMount],
    podmanArgs: ['--mount', `type=tmpfs,destination=${execute},tmpfs-size=64m`],
    agentArgs: ['--min-free-disk', '24M', '--cpus', '2', '--memory', '1024'],
  });
  await worker.waitForEvent('startd-advertised');
  machine = `${worker.name}-${(await worker.id()).slice(0, 12)}`;
});
afterAll(async () => {
  await worker?.remove();
});

function job(args: string, memory: number): string {
  return [
    'executable = /bin/sh',
    'transfer_executable = False',
    `arguments = "${args}"`,
    'should_transfer_files = YES',
    'log = disk.log',
    `request_memory = ${memory}`,
    'request_disk = 1024',
    `requirements = Machine == "${machine}"`,
    'queue',
    '',
  ].join('\n');
}

describe('execute disk (--min-free-disk)', () => {
  it('holds the job filling the disk (HoldReasonCode 21, with the reason) while its neighbour completes', async () => {
    const neighbour = await pool.submit(job("-c 'sleep 100; echo done'", 64));
    await pool.waitForQueue(neighbour, 'JobStatus == 2', ['JobStatus']);
    // 1 MiB a second for up to 70 s: past the 40 MiB that leave 24 MiB free, short of the 64 MiB that fill it.
    const hog = await pool.submit(
      job("-c 'i=0; while [ $i -lt 70 ]; do head -c 1048576 /dev/zero > fill.$i; i=$((i+1)); sleep 1; done; sleep 600'", 192),
    );
    await pool.waitForQueue(hog, 'JobStatus == 2', ['JobStatus']);

    const low = await worker.waitForEvent('execute-disk-low', () => true, 120_000);
    expect(Number(low.freeBytes)).toBeLessThan(24 * 1048576);
    expect(low.minFreeBytes).toBe(24 * 1048576);
    const held = await worker.waitForEvent('execute-disk-hold', () => true, 60_000);
    expect(held.jobId).toBe(`${hog}.0`);
    expect(Number(held.scratchBytes)).toBeGreaterThan(30 * 1048576);

    const [row] = await pool.waitForQueue(hog, 'JobStatus == 5', ['HoldReasonCode', 'HoldReasonSubCode', 'HoldReason'], 1, 90_000);
    expect(row?.slice(0, 2)).toEqual(['21', '1']);
    expect(row?.[2]).toMatch(
      new RegExp(
        `^Error from slot1_\\d+@${machine}: The execute disk of ${machine} is nearly full \\(\\d+ MiB free of \\d+ MiB, --min-free-disk 24 MiB\\); this job's scratch directory held \\d+ MiB, the most of the 2 jobs here\\.$`,
      ),
    );

    // The held job's scratch is gone with its starter: the disk is free again and START reopens.
    await worker.waitForEvent('execute-disk-hold-done', () => true, 60_000);
    await worker.waitForEvent('health-check-recovered', (line) => line.check === 'execute-disk', 60_000);
    const [done] = await pool.waitForHistory(neighbour, 1, ['JobStatus', 'ExitCode', 'NumJobStarts'], 180_000);
    expect(done).toEqual(['4', '0', '1']);
    const health = await waitFor(
      async () => {
        const [row] = await pool.status(`Machine == "${machine}" && PartitionableSlot`, ['WnHealthy', 'WnDiskHoldSlot']);
        return row?.[0] === 'true' ? row : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'WnHealthy true again in condor_status' },
    );
    expect(health).toEqual(['true', '']);
    await pool.exec(['condor_rm', String(hog)]);
  });
});
