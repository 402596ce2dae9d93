import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../agent/util/wait.ts';
import { testPool as pool, type Worker } from '../support/pool.ts';

// A black hole on a real pool: a worker whose site config wraps every job in a wrapper that fails at once (as a
// broken USER_JOB_WRAPPER would). Under PID namespaces (the default) HTCondor's starter fails on such a wrapper
// ("condor_pid_ns_init did not run properly") and the shadow puts the job back in the queue, so the same job comes
// back to the same worker again and again. After --black-hole-failures 3 the worker must stop matching and say why,
// and the job, free to go elsewhere, must run on a healthy worker beside it.

const dir = `/var/tmp/wn-black-hole-${randomBytes(3).toString('hex')}`;
let broken: Worker;
let healthy: Worker;
let brokenMachine: string;
let healthyMachine: string;

const machineOf = async (worker: Worker): Promise<string> => `${worker.name}-${(await worker.id()).slice(0, 12)}`;

beforeAll(async () => {
  await mkdir(dir, { recursive: true });
  await writeFile(`${dir}/wrapper`, '#!/bin/sh\necho "the software area is gone" >&2\nexit 1\n');
  await chmod(`${dir}/wrapper`, 0o755);
  await writeFile(`${dir}/broken.conf`, 'USER_JOB_WRAPPER = /usr/local/libexec/broken-wrapper\n');
  const args = ['--black-hole-failures', '3', '--black-hole-cooldown', '2m', '--cpus', '2'];
  [broken, healthy] = await Promise.all([
    pool.startWorker({
      mounts: [
        pool.passwordMount,
        pool.testConfigMount,
        `${dir}/wrapper:/usr/local/libexec/broken-wrapper:ro`,
        `${dir}/broken.conf:/etc/wn-agent/condor.d/60-broken.conf:ro`,
      ],
      agentArgs: args,
    }),
    pool.startWorker({ mounts: [pool.passwordMount, pool.testConfigMount], agentArgs: args }),
  ]);
  await Promise.all([broken.waitForEvent('startd-advertised'), healthy.waitForEvent('startd-advertised')]);
  brokenMachine = await machineOf(broken);
  healthyMachine = await machineOf(healthy);
});
afterAll(async () => {
  await Promise.all([broken?.remove(), healthy?.remove()]);
  await rm(dir, { recursive: true, force: true });
});

function jobs(requirements: string, count: number): string {
  return [
    'executable = /bin/sleep',
    'transfer_executable = False',
    'arguments = 1',
    'should_transfer_files = YES',
    'log = black-hole.log',
    'request_memory = 64',
    `requirements = ${requirements}`,
    `queue ${count}`,
    '',
  ].join('\n');
}

const health = async (machine: string): Promise<string[] | undefined> =>
  (await pool.status(`Machine == "${machine}" && PartitionableSlot`, ['WnHealthy', 'WnUnhealthyReasons']))[0];
const either = (): string => `(Machine == "${brokenMachine}" || Machine == "${healthyMachine}")`;

describe('black holes (--black-hole-failures)', () => {
  it('a worker failing every job stops matching after 3 quick failures; the job and the next ones run on a healthy worker', async () => {
    const first = await pool.submit(jobs(`Machine == "${brokenMachine}"`, 1));
    const detected = await broken.waitForEvent('black-hole-detected', () => true, 180_000);
    const streak = detected.jobs as { jobId: string; detail: string; runtimeMs: number }[];
    expect(streak.map((j) => j.jobId)).toEqual([`${first}.0`, `${first}.0`, `${first}.0`]);
    for (const job of streak) {
      expect(job.detail).toBe(
        'starter error: Starter configured to use PID NAMESPACES, but libexec/condor_pid_ns_init did not run properly',
      );
      expect(job.runtimeMs).toBeLessThan(60_000);
    }
    const [healthyFlag, reasons] = await waitFor(
      async () => {
        const row = await health(brokenMachine);
        return row?.[0] === 'false' ? row : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000, what: 'WnHealthy false on the black-hole worker' },
    );
    expect(healthyFlag).toBe('false');
    expect(reasons).toMatch(
      /^black-hole: 3 jobs in a row failed within 60 s of starting \(starter error: .* did not run properly ×3\); no new job until \d{4}-\d\d-\d\dT/,
    );
    // Back in the queue; one more start may have come in the 2 s before the startd read the verdict.
    const starts = Number((await pool.waitForQueue(first, 'JobStatus == 1', ['NumShadowStarts']))[0]?.[0]);
    expect(starts).toBeGreaterThanOrEqual(3);
    expect(starts).toBeLessThanOrEqual(4);

    // Free to go to either worker, the job and three new ones all run on the healthy one, and succeed.
    await pool.exec(['condor_qedit', String(first), 'Requirements', either()], { user: 'submitter' });
    const rest = await pool.submit(jobs(either(), 3));
    for (const [cluster, count] of [
      [first, 1],
      [rest, 3],
    ] as const) {
      for (const [exitCode, host] of await pool.waitForHistory(cluster, count, ['ExitCode', 'LastRemoteHost'], 120_000)) {
        expect(exitCode).toBe('0');
        expect(host).toContain(healthyMachine);
      }
    }
    expect((await health(healthyMachine))?.[0]).toBe('true');
    expect((await broken.jsonLogs()).filter((line) => line.event === 'black-hole-detected')).toHaveLength(1);
    expect((await healthy.jsonLogs()).filter((line) => line.event === 'black-hole-detected')).toHaveLength(0);

    // The cool-down ends on its own and the worker offers itself again.
    await broken.waitForEvent('black-hole-cooldown-over', () => true, 180_000);
    await waitFor(async () => ((await health(brokenMachine))?.[0] === 'true' ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 1000,
      what: 'WnHealthy true again after the cool-down',
    });
  });
});
