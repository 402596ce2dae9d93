import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { specHash } from '../../agent/fleet/spec.ts';
import { readSpecFile } from '../../agent/fleet/spec-file.ts';
import { rolloutProgress } from '../../agent/fleet/upgrade.ts';
import { waitFor } from '../../agent/util/wait.ts';
import { image, podman } from '../support/exec.ts';
import { TestFleet } from '../support/fleet.ts';
import { testPool as pool } from '../support/pool.ts';

// A rolling upgrade from one image tag to another on a fleet of two workers running long jobs, with the controller
// killed (SIGKILL) in the middle and started again. Jobs (120 s) outlive the workers' drain deadline (15 s), so old
// workers vacate them back to the queue, where new workers pick them up.

const fleet = new TestFleet('fu');
const nextImage = `localhost/wn-agent:fleet-next-${fleet.tag}`;
const jobs = 4;

beforeAll(async () => {
  await podman(['tag', image, nextImage]);
  await fleet.up(fleet.spec({ env: { WN_DRAIN_TIMEOUT: '15s', WN_IDLE_TIMEOUT: '30m' } }), [
    '--min',
    '2',
    '--max',
    '2',
    '--max-surge',
    '1',
    '--max-unavailable',
    '1',
    '--interval',
    '2s',
  ]);
});
afterAll(async () => {
  await fleet.down();
  await podman(['rmi', nextImage]).catch(() => undefined);
});

describe('wn-agent fleet upgrade against the real pool', () => {
  it('replaces every worker while long jobs run: at most --max-unavailable draining, no job held or lost, and a controller killed mid-upgrade finishes it', async () => {
    await fleet.observing();
    const oldHash = specHash(await readSpecFile(`${fleet.dir}/fleet.json`));
    await waitFor(async () => ((await pool.status(`WnFleet == "${fleet.name}"`, ['Name'])).length >= 2 ? true : undefined), {
      timeoutMs: 180_000,
      intervalMs: 1000,
      what: 'two workers of the fleet in the collector',
    });
    const cluster = await pool.submit(
      [
        'executable = /bin/sleep',
        'transfer_executable = False',
        'arguments = 120',
        'request_memory = 64',
        `requirements = WnFleet == "${fleet.name}"`,
        `queue ${jobs}`,
        '',
      ].join('\n'),
    );
    await waitFor(async () => ((await pool.countInQueue(cluster, 'JobStatus == 2')) === 2 ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 1000,
      what: 'two jobs running on the old workers',
    });

    // Every worker's own state, sampled from outside the controller for the whole rollout.
    let maxDraining = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const live = (await fleet.backend.list().catch(() => [])).filter((w) => w.running && w.address);
        const states = await Promise.all(live.map((w) => fleet.agentState({ name: w.name, address: w.address as string })));
        maxDraining = Math.max(maxDraining, states.filter((s) => s === 'draining' || s === 'stopping').length);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();

    const said = await podman([
      'exec',
      fleet.controller,
      'wn-agent',
      'fleet',
      'upgrade',
      '--spec',
      '/etc/wn-fleet/fleet.json',
      '--image',
      nextImage,
    ]);
    const newHash = specHash(await readSpecFile(`${fleet.dir}/fleet.json`));
    expect(newHash).not.toBe(oldHash);
    expect(said).toContain(`spec ${oldHash} -> ${newHash}`);

    // The first old worker asked to drain: the controller dies there, without a word, and is started again.
    await waitFor(
      async () =>
        (await fleet.events()).some((e) => e.event === 'fleet-worker-draining' && String(e.reason).startsWith('upgrade'))
          ? true
          : undefined,
      {
        timeoutMs: 180_000,
        intervalMs: 500,
        what: 'the first old worker draining',
      },
    );
    await podman(['kill', '--signal', 'KILL', fleet.controller]);
    await podman(['start', fleet.controller]);

    await waitFor(
      async () => {
        const { current, outdated } = await rolloutProgress(fleet.backend, newHash);
        return current === 2 && outdated === 0 ? true : undefined;
      },
      { timeoutMs: 420_000, intervalMs: 1000, what: 'both workers on the new spec' },
    );
    const history = await pool.waitForHistory(cluster, jobs, ['JobStatus', 'NumHolds', 'NumJobStarts'], 300_000);
    sampling = false;
    await sampler;

    expect(history.map(([status]) => status)).toEqual(Array(jobs).fill('4')); // every job completed
    expect(history.every(([, holds]) => holds === 'undefined' || holds === '0')).toBe(true); // never held
    // Jobs of 120 s on workers drained with a 15 s deadline: some went back to the queue and ran again on a new worker.
    // (The first drain starts once a new worker is up: well within 105 s of the jobs' start even on a loaded machine.)
    expect(history.reduce((sum, [, , starts]) => sum + Number(starts), 0)).toBeGreaterThan(jobs);
    expect(maxDraining).toBeGreaterThan(0);
    expect(maxDraining).toBeLessThanOrEqual(1);
    const events = await fleet.events();
    expect(events.filter((e) => e.event === 'fleet-starting').length).toBe(2); // killed once, started again
    // The restarted controller read the rollout back instead of starting it over: two new workers in all.
    expect(events.filter((e) => e.event === 'fleet-worker-started' && e.specHash === newHash).length).toBe(2);
    expect(events.filter((e) => e.event === 'fleet-worker-draining' && String(e.reason).startsWith('upgrade')).length).toBe(2);
    // What condor_status shows: only the new workers, named after the new spec, left in the pool.
    await waitFor(
      async () => {
        const tasks = (await pool.status(`WnFleet == "${fleet.name}"`, ['ContainerTaskId'])).map(([task]) => task);
        return tasks.length > 0 && tasks.every((task) => task?.startsWith(`${fleet.name}-${newHash.slice(0, 6)}-`)) ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: 'only new workers in the collector' },
    );
    // Jobs of 120 s across a rolling upgrade of two workers take four to five minutes on their own; each wait above
    // has its own deadline.
  }, 900_000);
});
