import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../agent/util/wait.ts';
import { TestFleet } from '../support/fleet.ts';
import { testPool as pool } from '../support/pool.ts';

// The fleet end to end: `wn-agent fleet run` in a container of the image, speaking the Docker Engine API of podman,
// starting real workers that join the real pool, for real jobs submitted by the pool's ordinary user.

const fleet = new TestFleet('fe');

beforeAll(async () => {
  await fleet.up(fleet.spec(), ['--min', '0', '--max', '4', '--interval', '2s']);
});
afterAll(async () => {
  await fleet.down();
});

const cycles = async (): Promise<number> => Number(/^wn_fleet_cycles_total (\d+)$/m.exec(await fleet.metrics())?.[1] ?? 0);

describe('wn-agent fleet run against the real pool', () => {
  it("does not grow for idle jobs no worker of the fleet would match (another fleet's; one only the prototype ad would)", async () => {
    await fleet.observing();
    const other = await pool.submit(
      [
        'executable = /bin/sleep',
        'transfer_executable = False',
        'arguments = 1',
        'request_memory = 64',
        `requirements = WnFleet == "not-${fleet.name}"`,
        'queue 5',
        '',
      ].join('\n'),
    );
    // Jobs that only the prototype machine ad would match (what the fleet evaluates demand against): a prototype
    // that carried values no real worker has would make the fleet grow for them, and churn at --max.
    const prototypeOnly = await pool.submit(
      [
        'executable = /bin/sleep',
        'transfer_executable = False',
        'arguments = 1',
        'request_memory = 64',
        'requirements = regexp("-prototype$", ContainerTaskId) || (TARGET.Memory > 1000000000)',
        'queue 5',
        '',
      ].join('\n'),
    );
    try {
      // Three whole cycles after the jobs are in the queue: each one saw them and counted none.
      const seen = await cycles();
      await waitFor(async () => ((await cycles()) >= seen + 3 ? true : undefined), {
        timeoutMs: 60_000,
        intervalMs: 1000,
        what: 'three fleet cycles',
      });
      expect(await fleet.metrics()).toMatch(/^wn_fleet_idle_jobs 0$/m);
      expect((await fleet.backend.list()).length).toBe(0);
    } finally {
      await pool.exec(['condor_rm', String(other), String(prototypeOnly)], { user: 'submitter' });
    }
  });

  it('30 short jobs on an empty fleet (--min 0 --max 4): the fleet grows, every job completes, the fleet drains back to 0', async () => {
    expect((await fleet.backend.list()).length).toBe(0); // no demand, no worker
    await pool.ensureUser('mallory');
    // A hostile pool user first: 200 idle jobs with 100 KB Requirements each, 20 MB of condor_q output every cycle
    // (matching no worker, so they stay idle). The fleet must still see and serve everyone else's jobs.
    const hostile = await pool.submit(
      [
        'executable = /bin/sleep',
        'transfer_executable = False',
        'arguments = 1',
        'request_memory = 64',
        `requirements = (WnFleet == "not-${fleet.name}") && stringListMember("x", "${'y,'.repeat(50_000)}")`,
        'queue 200',
        '',
      ].join('\n'),
      {},
      { user: 'mallory' },
    );
    const submit = [
      'executable = /bin/sleep',
      'transfer_executable = False',
      'arguments = 4',
      'should_transfer_files = YES',
      'log = fleet.log',
      'request_memory = 64',
      `requirements = WnFleet == "${fleet.name}"`,
      'queue 30',
      '',
    ].join('\n');
    const cluster = await pool.submit(submit);
    let peak = 0;
    const done = await waitFor(
      async () => {
        peak = Math.max(peak, (await fleet.backend.list()).filter((w) => w.running).length);
        const rows = await pool.history(`ClusterId == ${cluster}`, ['JobStatus']);
        return rows.length >= 30 ? rows : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 1000, what: 'all 30 jobs in condor_history' },
    );
    expect(done.every(([status]) => status === '4')).toBe(true);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);
    // No demand left: drained (never killed), exited 0, removed.
    await waitFor(async () => ((await fleet.backend.list()).length === 0 ? true : undefined), {
      timeoutMs: 180_000,
      intervalMs: 1000,
      what: 'the fleet back to 0 workers',
    });
    const events = await fleet.events();
    const started = events.filter((e) => e.event === 'fleet-worker-started').length;
    expect(started).toBeGreaterThanOrEqual(peak);
    expect(events.filter((e) => e.event === 'fleet-worker-draining').length).toBe(started);
    expect(events.filter((e) => e.event === 'fleet-worker-gone').length).toBe(started);
    // The fleet's own metrics say the same.
    const metrics = await fleet.metrics();
    expect(metrics).toMatch(new RegExp(`^wn_fleet_workers_started_total ${started}$`, 'm'));
    expect(metrics).toMatch(/^wn_fleet_idle_jobs 0$/m);
    const runHistory = await pool.history(`ClusterId == ${cluster}`, ['NumJobStarts']);
    expect(runHistory.every(([starts]) => starts === '1')).toBe(true); // no job was started twice: nothing killed
    // The hostile jobs were skipped line by line, every cycle completed, and the controller said what it skipped.
    expect(events.filter((e) => e.event === 'fleet-cycle-failed')).toEqual([]);
    expect(events.some((e) => e.event === 'fleet-demand-uncounted' && e.overlong === 200)).toBe(true);
    await pool.exec(['condor_rm', String(hostile)], { user: 'mallory' });
  });
});
