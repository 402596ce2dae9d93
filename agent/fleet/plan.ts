/**
 * The fleet's decisions, as a pure function of what was observed: how many workers to start and which to drain.
 * Nothing here kills: a worker leaves the fleet only by draining (its agent lets running jobs finish, or vacates them
 * back to the queue at its drain deadline) and exiting on its own. The controller observes, calls plan(), acts, and
 * observes again; the plan holds no state of its own, so a restarted controller picks up where the last one was.
 */

export type WorkerPhase = 'starting' | 'idle' | 'busy' | 'draining' | 'gone';

export interface ObservedWorker {
  id: string;
  /** Hash of the spec (image, environment, resources) the worker was started from. */
  specHash: string;
  phase: WorkerPhase;
  /** Jobs running on it now (from its agent's /v1/status). */
  runningJobs: number;
  /** When the worker was started (epoch ms): among equals, the older one drains first. */
  startedAt: number;
}

export interface FleetLimits {
  min: number;
  max: number;
  /** Upgrade: workers above the target count allowed while old ones are replaced. */
  maxSurge: number;
  /** Upgrade and scale-down: workers draining at once, at most. */
  maxUnavailable: number;
  /** Jobs one worker runs at once (its CPUs, for single-CPU jobs). */
  jobsPerWorker: number;
}

export interface FleetPlan {
  /** Workers of the current spec to start now. */
  start: number;
  /** Workers to ask to drain now, in order. */
  drain: string[];
  /** The fleet size the plan aims at, for events and metrics. */
  target: number;
  /** Why, in a sentence an operator reads in the controller's log. */
  reason: string;
}

const serving = (w: ObservedWorker): boolean => w.phase === 'starting' || w.phase === 'idle' || w.phase === 'busy';
/** The fleet drains only workers it can see: their agent answered (idle or busy). */
const seen = (w: ObservedWorker): boolean => w.phase === 'idle' || w.phase === 'busy';

/** Idle first, then the ones closest to finishing (fewest jobs), then the oldest. */
function drainOrder(a: ObservedWorker, b: ObservedWorker): number {
  const rank = (w: ObservedWorker): number => (w.phase === 'idle' ? 0 : w.phase === 'starting' ? 1 : 2);
  return rank(a) - rank(b) || a.runningJobs - b.runningJobs || a.startedAt - b.startedAt;
}

/**
 * @param idleJobs idle jobs in the pool that a worker of this fleet could run
 * @param currentSpec the spec hash workers should have; others are replaced (rolling upgrade)
 */
export function plan(workers: readonly ObservedWorker[], idleJobs: number, currentSpec: string, limits: FleetLimits): FleetPlan {
  const live = workers.filter(serving);
  const current = live.filter((w) => w.specHash === currentSpec);
  const outdated = live.filter((w) => w.specHash !== currentSpec);
  const draining = workers.filter((w) => w.phase === 'draining').length;
  const perWorker = Math.max(1, limits.jobsPerWorker);

  // Demand: workers busy with jobs stay; idle jobs beyond the free job slots of the live workers ask for more.
  // Free slots of outdated workers do not count: they are on their way out.
  const freeSlots = current.reduce((sum, w) => sum + (w.phase === 'busy' ? Math.max(0, perWorker - w.runningJobs) : perWorker), 0);
  const busy = live.filter((w) => w.phase === 'busy').length;
  // With no idle jobs, workers without jobs are not needed; with some, they are (they are about to get them).
  const wanted =
    idleJobs > 0
      ? busy + current.filter((w) => w.phase !== 'busy').length + Math.ceil(Math.max(0, idleJobs - freeSlots) / perWorker)
      : busy;
  const target = Math.min(limits.max, Math.max(limits.min, wanted));

  // Rolling upgrade: new workers of the current spec come up first (at most target + maxSurge live workers in all);
  // old ones drain idle-first, at most maxUnavailable draining at once, and only while the workers up and serving
  // (starting ones do not count) stay at least target - maxUnavailable. With --max-surge 0 there is no room for a
  // new worker before an old one goes, so old ones drain first, within --max-unavailable.
  if (outdated.length > 0) {
    const room = Math.max(0, target + limits.maxSurge - live.length);
    const start = Math.max(0, Math.min(room, target - current.length));
    const available = live.filter((w) => w.phase !== 'starting').length;
    let count = Math.min(outdated.length, limits.maxUnavailable - draining, available - (target - limits.maxUnavailable));
    if (limits.maxSurge > 0) {
      // New first: a busy old worker drains once a current one is up in its place; an idle one is not needed anyway.
      const currentUp = current.filter((w) => w.phase !== 'starting').length;
      const idleOutdated = outdated.filter((w) => w.phase === 'idle').length;
      count = Math.min(count, Math.max(idleOutdated, currentUp - (target - outdated.length)));
    }
    count = Math.max(0, count);
    // Only workers whose agent answered: a worker in its last seconds (its admin port closed while HTCondor stops)
    // or one not up yet answers nothing, and asking it to drain would be asking nobody, again.
    const drain = outdated.filter(seen).sort(drainOrder).slice(0, count);
    return {
      start,
      drain: drain.map((w) => w.id),
      target,
      reason: `upgrade: ${outdated.length} outdated, ${current.length} current, ${draining} draining`,
    };
  }

  if (live.length < target) {
    return { start: target - live.length, drain: [], target, reason: `${idleJobs} idle jobs fit this fleet; ${freeSlots} free job slots` };
  }
  if (live.length > target) {
    const batch = Math.max(0, limits.maxUnavailable - draining);
    // Idle workers first; busy ones (closest to finishing first) only when the target is below the busy count, as
    // when --max was lowered: their jobs finish, or are vacated to the queue at the drain deadline.
    const candidates = live.filter(seen).sort(drainOrder);
    const drain = candidates.slice(0, Math.min(batch, live.length - target));
    return { start: 0, drain: drain.map((w) => w.id), target, reason: `${live.length} workers for a target of ${target}` };
  }
  return { start: 0, drain: [], target, reason: 'steady' };
}
