import { describe, expect, it } from 'vitest';
import { RestartBudget } from '../../agent/lifecycle/backoff.ts';
import { IdleClock } from '../../agent/lifecycle/idle.ts';
import { StopController } from '../../agent/lifecycle/stop-request.ts';

describe('IdleClock', () => {
  it('counts from start when never busy', () => {
    const clock = new IdleClock(20_000, 1000);
    clock.observe(false, 5000);
    expect(clock.remaining(5000)).toBe(16_000);
    expect(clock.expired(20_999)).toBe(false);
    expect(clock.expired(21_000)).toBe(true);
  });

  it('never expires while busy, and counts again from the end of the last work', () => {
    const clock = new IdleClock(20_000, 0);
    clock.observe(true, 15_000);
    expect(clock.remaining(100_000)).toBeUndefined();
    expect(clock.expired(100_000)).toBe(false);
    clock.observe(false, 100_000);
    expect(clock.remaining(110_000)).toBe(10_000);
    expect(clock.expired(120_000)).toBe(true);
  });
});

describe('RestartBudget', () => {
  it('backs off exponentially and gives up after the limit within the window', () => {
    const budget = new RestartBudget(3, 60_000, 1000, 30_000);
    expect([budget.next(0), budget.next(1), budget.next(2), budget.next(3)]).toEqual([1000, 2000, 4000, undefined]);
  });

  it('forgets restarts older than the window', () => {
    const budget = new RestartBudget(2, 60_000);
    budget.next(0);
    budget.next(1);
    expect(budget.next(2)).toBeUndefined();
    expect(budget.next(70_000)).toBe(1000);
  });
});

describe('StopController', () => {
  it('the first request decides; later ones hurry the drain', async () => {
    const stop = new StopController();
    expect(stop.request({ reason: 'idle', drainTimeoutMs: 60_000 })).toBe('accepted');
    expect(stop.hurry.signal.aborted).toBe(false);
    expect(stop.request({ reason: 'signal', signal: 'SIGTERM', drainTimeoutMs: 0 })).toBe('hurried');
    expect(stop.hurry.signal.aborted).toBe(true);
    expect(await stop.requested).toEqual({ reason: 'idle', drainTimeoutMs: 60_000 });
  });
});
