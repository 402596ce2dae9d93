import { describe, expect, it } from 'vitest';
import { plan, type FleetLimits, type ObservedWorker, type WorkerPhase } from '../../agent/fleet/plan.ts';

const limits: FleetLimits = { min: 0, max: 4, maxSurge: 1, maxUnavailable: 1, jobsPerWorker: 2 };
let n = 0;
const w = (phase: WorkerPhase, runningJobs = 0, specHash = 'v1'): ObservedWorker => ({
  id: `w${++n}`,
  specHash,
  phase,
  runningJobs,
  startedAt: n,
});

describe('fleet plan: scaling to demand', () => {
  it('starts workers for idle jobs, up to --max, from an empty fleet', () => {
    expect(plan([], 3, 'v1', limits)).toMatchObject({ start: 2, drain: [], target: 2 });
    expect(plan([], 30, 'v1', limits)).toMatchObject({ start: 4, target: 4 });
    expect(plan([], 0, 'v1', limits)).toMatchObject({ start: 0, target: 0 });
  });

  it('counts the free job slots of workers already up or starting', () => {
    expect(plan([w('starting'), w('busy', 1)], 3, 'v1', limits)).toMatchObject({ start: 0, target: 2 });
    expect(plan([w('busy', 2), w('busy', 2)], 3, 'v1', limits)).toMatchObject({ start: 2, target: 4 });
  });

  it('keeps --min workers with no demand, and never starts more than --max', () => {
    expect(plan([], 0, 'v1', { ...limits, min: 2 })).toMatchObject({ start: 2, target: 2 });
    expect(plan([w('busy', 2), w('busy', 2), w('busy', 2), w('busy', 2)], 50, 'v1', limits)).toMatchObject({ start: 0, drain: [] });
  });

  it('scales down only by draining, idle workers first, at most --max-unavailable at once; busy workers stay', () => {
    const busy = w('busy', 1);
    const idleOld = w('idle');
    const idleNew = w('idle');
    expect(plan([busy, idleNew, idleOld].reverse(), 0, 'v1', limits)).toMatchObject({ start: 0, drain: [idleOld.id], target: 1 });
    expect(plan([busy, idleOld, idleNew], 0, 'v1', { ...limits, maxUnavailable: 2 }).drain).toEqual([idleOld.id, idleNew.id]);
    // One already draining uses the whole budget of one.
    expect(plan([busy, idleOld, w('draining')], 0, 'v1', limits).drain).toEqual([]);
  });

  it('when --max is lowered below the busy workers, drains the one closest to finishing', () => {
    const a = w('busy', 2);
    const b = w('busy', 1);
    expect(plan([a, b], 0, 'v1', { ...limits, max: 1 })).toMatchObject({ drain: [b.id], target: 1 });
  });
});

describe('fleet plan: rolling upgrade', () => {
  const up = { ...limits, maxSurge: 1, maxUnavailable: 1 };

  it('brings a new worker up first, within --max-surge', () => {
    const old = [w('busy', 2, 'v1'), w('busy', 2, 'v1')];
    expect(plan(old, 0, 'v2', up)).toMatchObject({ start: 1, drain: [], target: 2 }); // the surge: one replacement
    expect(plan(old, 2, 'v2', up)).toMatchObject({ start: 2, target: 3 }); // one for the idle jobs, one replacement
    expect(plan(old, 2, 'v2', { ...up, maxSurge: 0 })).toMatchObject({ start: 1, target: 3 });
  });

  it('drains old workers idle first, never more than --max-unavailable at once, keeping target - maxUnavailable serving', () => {
    const oldIdle = w('idle', 0, 'v1');
    const oldBusy = w('busy', 2, 'v1');
    const fresh = w('idle', 0, 'v2');
    const p = plan([oldBusy, oldIdle, fresh], 0, 'v2', up);
    expect(p.drain).toEqual([oldIdle.id]);
    expect(plan([oldBusy, w('draining', 1, 'v1'), fresh], 0, 'v2', up).drain).toEqual([]);
  });

  it('never asks a worker it cannot see to drain (no answer from its agent: not up yet, or in its last seconds)', () => {
    const silentOld = w('starting', 0, 'v1');
    const busyOld = w('busy', 1, 'v1');
    const fresh = w('idle', 0, 'v2');
    expect(plan([silentOld, busyOld, fresh], 0, 'v2', up).drain).toEqual([busyOld.id]);
    expect(plan([silentOld, fresh], 0, 'v2', up).drain).toEqual([]);
    // Scaling down too: of two workers with no demand, only the one that answered.
    expect(plan([w('starting', 0, 'v2'), fresh], 0, 'v2', { ...limits, min: 0 }).drain).toEqual([fresh.id]);
  });

  it('ends with every old worker drained and none started beyond the target', () => {
    const old = [w('idle', 0, 'v1'), w('idle', 0, 'v1')];
    const first = plan(old, 0, 'v2', { ...up, maxUnavailable: 2 });
    expect(first).toMatchObject({ start: 0 });
    expect(first.drain).toHaveLength(2);
  });

  it.each([0, 1, 2])(
    'at every step of a simulated upgrade (max-surge %i), at most --max-unavailable workers drain, and it ends',
    (maxSurge) => {
      const up = { ...limits, maxSurge, maxUnavailable: 1 };
      // 3 busy old workers, steady demand; the simulation starts what the plan says, new workers take jobs, drained
      // workers finish their jobs and go.
      let fleet: ObservedWorker[] = [w('busy', 2, 'v1'), w('busy', 2, 'v1'), w('busy', 2, 'v1')];
      for (let step = 0; step < 30 && fleet.some((x) => x.specHash === 'v1'); step++) {
        const p = plan(fleet, 2, 'v2', up);
        expect(fleet.filter((x) => x.phase === 'draining').length + p.drain.length).toBeLessThanOrEqual(up.maxUnavailable);
        fleet = fleet
          .filter((x) => x.phase !== 'draining') // a draining worker finishes its jobs and exits by the next step
          .map((x) =>
            p.drain.includes(x.id)
              ? { ...x, phase: 'draining' as const }
              : x.phase === 'starting'
                ? { ...x, phase: 'busy' as const, runningJobs: 2 }
                : x,
          );
        for (let i = 0; i < p.start; i++) fleet.push(w('starting', 0, 'v2'));
      }
      expect(fleet.filter((x) => x.specHash === 'v1')).toEqual([]);
      expect(fleet.filter((x) => x.phase !== 'draining').length).toBeGreaterThanOrEqual(3);
    },
  );
});
