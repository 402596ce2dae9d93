import type { BlackHoleOptions } from '../config/options.ts';
import type { Logger } from '../log/logger.ts';
import type { JobEnd } from './job-ends.ts';
import type { WorkerHealth } from './worker-health.ts';

/** The name this check has in WnUnhealthyReasons, /v1/status and the events. */
export const blackHoleCheck = 'black-hole';

/**
 * A worker that takes jobs and fails them at once drains the pool's queue at the negotiator's pace. After
 * `failures` jobs in a row ended in failure within `windowMs` of starting, from at least two clusters (one user's
 * broken batch is that user's problem, not the worker's: it would otherwise close every worker it reaches), START
 * closes for `cooldownMs`. A failure that is the worker's whatever the job (a starter error: the job goes back to
 * the queue and may come straight back here) counts as a cluster of its own. A job that succeeds, or fails after running longer than the window, ends the streak;
 * jobs stopped by someone (vacated, held, removed) or OOM-killed over their own request count neither way.
 */
export class BlackHole {
  private streak: JobEnd[] = [];
  private coolingUntil: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: BlackHoleOptions,
    private readonly health: WorkerHealth,
    private readonly log: Logger,
  ) {}

  get tripped(): boolean {
    return this.coolingUntil !== undefined;
  }

  observe(end: JobEnd, now = Date.now()): void {
    const { failures, windowMs } = this.options;
    if (failures === 0 || end.outcome === 'interrupted' || this.coolingUntil !== undefined) return;
    if (end.outcome === 'success' || end.runtimeMs > windowMs) {
      this.streak = [];
      return;
    }
    this.streak.push(end);
    if (this.streak.length > failures) this.streak.shift();
    if (this.streak.length === failures && clusters(this.streak) >= 2) this.trip(now);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private trip(now: number): void {
    const { failures, windowMs, cooldownMs } = this.options;
    const jobs = this.streak.map(({ jobId, detail, runtimeMs }) => ({ jobId, detail, runtimeMs }));
    this.streak = [];
    this.coolingUntil = now + cooldownMs;
    const until = new Date(this.coolingUntil).toISOString();
    const reason =
      `${failures} jobs in a row failed within ${Math.round(windowMs / 1000)} s of starting ` +
      `(${summary(jobs.map((j) => j.detail))}); no new job until ${until}`;
    this.log.warn({ event: 'black-hole-detected', jobs, cooldownMs, until }, `black hole: ${reason}`);
    void this.health.record(blackHoleCheck, { ok: false, reason, durationMs: 0 });
    this.timer = setTimeout(() => {
      this.coolingUntil = undefined;
      this.log.info({ event: 'black-hole-cooldown-over', cooldownMs }, 'black-hole cool-down over: jobs may start here again');
      void this.health.record(blackHoleCheck, { ok: true, durationMs: 0 });
    }, cooldownMs);
    this.timer.unref();
  }
}

function clusters(ends: readonly JobEnd[]): number {
  return new Set(ends.map((end) => (end.workerFault ? undefined : end.jobId?.split('.')[0]) ?? `starter ${end.starterPid}`)).size;
}

/** "exit 1 ×4, did not start": each detail once, with its count. */
function summary(details: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const detail of details) counts.set(detail, (counts.get(detail) ?? 0) + 1);
  return [...counts].map(([detail, n]) => (n === 1 ? detail : `${detail} ×${n}`)).join(', ');
}
