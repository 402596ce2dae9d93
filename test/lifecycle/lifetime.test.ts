import { describe, expect, it } from 'vitest';
import { jobsEndBy } from '../../agent/lifecycle/lifetime.ts';

const now = 1_800_000_000_000; // ms
const min = 60_000;

describe('when running jobs must be done (WnJobsEndBy), from the lifetime options', () => {
  it('is unknown without --accept-jobs-for or --max-lifetime: a worker that runs until told has no guard', () => {
    expect(jobsEndBy({ acceptJobsForMs: undefined, maxLifetimeMs: undefined, drainTimeoutMs: 5 * min }, now)).toBeUndefined();
  });

  it('--accept-jobs-for alone: its drain gives jobs --drain-timeout', () => {
    expect(jobsEndBy({ acceptJobsForMs: 60 * min, maxLifetimeMs: undefined, drainTimeoutMs: 5 * min }, now)).toBe(now / 1000 + 65 * 60);
  });

  it('--max-lifetime alone: its drain gives jobs at most a minute', () => {
    expect(jobsEndBy({ acceptJobsForMs: undefined, maxLifetimeMs: 120 * min, drainTimeoutMs: 5 * min }, now)).toBe(now / 1000 + 121 * 60);
    expect(jobsEndBy({ acceptJobsForMs: undefined, maxLifetimeMs: 120 * min, drainTimeoutMs: 20_000 }, now)).toBe(
      now / 1000 + 120 * 60 + 20,
    );
  });

  it('both: the drain at --accept-jobs-for runs until --max-lifetime, whichever comes first holds', () => {
    expect(jobsEndBy({ acceptJobsForMs: 60 * min, maxLifetimeMs: 90 * min, drainTimeoutMs: 5 * min }, now)).toBe(now / 1000 + 90 * 60);
    expect(jobsEndBy({ acceptJobsForMs: 120 * min, maxLifetimeMs: 90 * min, drainTimeoutMs: 5 * min }, now)).toBe(now / 1000 + 91 * 60);
  });
});
