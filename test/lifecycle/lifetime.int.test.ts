import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPool as pool, type Worker } from '../support/pool.ts';

// The lifetime guard on a real worker: --accept-jobs-for 20m with the default --drain-timeout 5m means jobs still
// running 25 minutes after start are vacated. Jobs that declare their runtime (MaxWallTimeMins) start only if they
// can finish before then; jobs that declare nothing start as before.

let worker: Worker;
let startedAt = 0;

beforeAll(async () => {
  startedAt = Math.floor(Date.now() / 1000);
  worker = await pool.startWorker({
    mounts: [pool.passwordMount, pool.testConfigMount],
    agentArgs: ['--accept-jobs-for', '20m', '--cpus', '4', '--memory', '1024'],
  });
  await worker.waitForEvent('startd-advertised');
});
afterAll(async () => {
  await worker.remove();
});

function job(name: string, runtime: string | undefined): string {
  return [
    'executable = /bin/sleep',
    'transfer_executable = False',
    'arguments = 2',
    'should_transfer_files = YES',
    `log = ${name}.log`,
    'request_memory = 64',
    ...(runtime === undefined ? [] : [`+MaxWallTimeMins = ${runtime}`]),
    `requirements = ContainerTaskId == "${worker.name}"`,
    'queue',
    '',
  ].join('\n');
}

describe('lifetime guard (--accept-jobs-for)', () => {
  it('advertises WnJobsEndBy; a job declaring 60 minutes never starts, jobs declaring 2 minutes or nothing run', async () => {
    const [[endBy] = []] = await pool.status(`ContainerTaskId == "${worker.name}" && PartitionableSlot`, ['WnJobsEndBy']);
    // start + 20 min + 5 min, as the worker computed it when it rendered its configuration.
    expect(Number(endBy) - startedAt).toBeGreaterThanOrEqual(25 * 60 - 5);
    expect(Number(endBy) - startedAt).toBeLessThanOrEqual(25 * 60 + 60);
    // The long job first: with four free cores every job could start in the same negotiation cycle.
    const long = await pool.submit(job('long', '60'));
    const short = await pool.submit(job('short', '2'));
    const silent = await pool.submit(job('silent', undefined));
    const [shortDone] = await pool.waitForHistory(short, 1, ['JobStatus', 'ExitCode']);
    const [silentDone] = await pool.waitForHistory(silent, 1, ['JobStatus', 'ExitCode']);
    expect(shortDone).toEqual(['4', '0']);
    expect(silentDone).toEqual(['4', '0']);
    // Both others ran and ended while the long one never started: the worker's START refused it, not a lack of room.
    const [longNow] = await pool.waitForQueue(long, 'JobStatus == 1', ['JobStatus', 'NumJobStarts']);
    expect(longNow).toEqual(['1', '0']);
    await pool.exec(['condor_rm', String(long)], { user: 'submitter' });
  });
});
