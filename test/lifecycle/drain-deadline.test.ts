import { describe, expect, it } from 'vitest';
import { drainDeadline, ownDrainLimitMs } from '../../agent/lifecycle/drain-deadline.ts';
import { jobsEndBy } from '../../agent/lifecycle/lifetime.ts';

const config = { drainTimeoutMs: 300_000, acceptJobsForMs: undefined, maxLifetimeMs: undefined };
const m = 60_000;

describe('drainDeadline: one rule for every stop', () => {
  it('a signal gets --drain-timeout; a drain request its own --timeout, else --drain-timeout', () => {
    expect(drainDeadline('signal', config)).toBe(300_000);
    expect(drainDeadline('drain-request', config)).toBe(300_000);
    expect(drainDeadline('drain-request', config, 30_000)).toBe(30_000);
    expect(drainDeadline('drain-request', config, 0)).toBe(0); // "now" is a deadline too, not "the default"
  });

  it('the stops the agent decides on its own are short: idle a minute, --max-lifetime at most a minute', () => {
    expect(drainDeadline('idle', config)).toBe(ownDrainLimitMs);
    expect(drainDeadline('idle', { ...config, drainTimeoutMs: 10_000 })).toBe(ownDrainLimitMs);
    expect(drainDeadline('max-lifetime', { ...config, maxLifetimeMs: 60 * m })).toBe(m);
    expect(drainDeadline('max-lifetime', { ...config, drainTimeoutMs: 20_000, maxLifetimeMs: 60 * m })).toBe(20_000);
  });

  it('--accept-jobs-for drains for what --max-lifetime leaves, or --drain-timeout without one', () => {
    expect(drainDeadline('accept-jobs-for', { ...config, acceptJobsForMs: 20 * m })).toBe(300_000);
    expect(drainDeadline('accept-jobs-for', { ...config, acceptJobsForMs: 20 * m, maxLifetimeMs: 50 * m })).toBe(30 * m);
    expect(drainDeadline('accept-jobs-for', { ...config, acceptJobsForMs: 50 * m, maxLifetimeMs: 20 * m })).toBe(0);
  });

  it('is what the lifetime guard advertises: WnJobsEndBy = start + the earlier of the two drains', () => {
    const start = 1_800_000_000_000;
    expect(jobsEndBy({ ...config, acceptJobsForMs: 20 * m }, start)).toBe((start + 20 * m + 300_000) / 1000);
    expect(jobsEndBy({ ...config, maxLifetimeMs: 60 * m }, start)).toBe((start + 61 * m) / 1000);
    expect(jobsEndBy({ ...config, acceptJobsForMs: 20 * m, maxLifetimeMs: 30 * m }, start)).toBe((start + 30 * m) / 1000);
  });
});
