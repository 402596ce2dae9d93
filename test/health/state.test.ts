import { describe, expect, it } from 'vitest';
import { HealthState, type HealthEvent } from '../../agent/health/state.ts';

const pass = { ok: true, durationMs: 5 };
const fail = (reason: string) => ({ ok: false, reason, durationMs: 7 });

/** One round: each check's result in order, then the round's end; the events it produced. */
function round(
  state: HealthState,
  results: Record<string, { ok: boolean; reason?: string; durationMs: number }>,
  at: number,
): HealthEvent[] {
  const events = Object.entries(results).flatMap(([name, result]) => state.record(name, result, at));
  return [...events, ...state.endRound(Object.keys(results))];
}

const names = (events: HealthEvent[]): string[] => events.map((e) => ('check' in e ? `${e.event} ${e.check}` : e.event));

describe('HealthState', () => {
  it('announces a healthy worker once its whole first round passed, then says nothing while nothing changes', () => {
    const state = new HealthState();
    expect(state.record('10-disk', pass, 1000)).toEqual([]); // one passing check does not make the worker healthy yet
    expect(state.record('20-scratch', pass, 1000)).toEqual([]);
    expect(state.endRound(['10-disk', '20-scratch'])).toEqual([{ event: 'worker-healthy', checks: ['10-disk', '20-scratch'] }]);
    expect(round(state, { '10-disk': pass, '20-scratch': pass }, 2000)).toEqual([]);
    expect(state.healthy).toBe(true);
    expect(state.reasons()).toEqual([]);
  });

  it('reports the first failure of a check and the worker turning unhealthy at once; a failure that goes on says nothing', () => {
    const state = new HealthState();
    round(state, { '10-disk': pass, '20-scratch': pass }, 1000);
    expect(state.record('10-disk', fail('exit 1: /scratch is full'), 2000)).toEqual([
      { event: 'health-check-failed', check: '10-disk', reason: 'exit 1: /scratch is full', durationMs: 7 },
      { event: 'worker-unhealthy', reasons: ['10-disk: exit 1: /scratch is full'] },
    ]);
    expect(names(state.record('20-scratch', fail('timed out after 30 s'), 2000))).toEqual(['health-check-failed 20-scratch']);
    expect(state.endRound(['10-disk', '20-scratch'])).toEqual([]);
    expect(state.reasons()).toEqual(['10-disk: exit 1: /scratch is full', '20-scratch: timed out after 30 s']);
    // Still failing, with another reason: no event (the reason in the ad and the status is the new one).
    expect(round(state, { '10-disk': fail('exit 1: /scratch is fuller'), '20-scratch': fail('timed out after 30 s') }, 3000)).toEqual([]);
    expect(state.reasons()[0]).toBe('10-disk: exit 1: /scratch is fuller');
  });

  it('reports each recovery, and the worker healthy again when the last failing check passes', () => {
    const state = new HealthState();
    round(state, { a: fail('exit 1'), b: fail('exit 2') }, 1000);
    expect(state.record('a', pass, 61_000)).toEqual([{ event: 'health-check-recovered', check: 'a', durationMs: 5, failedForMs: 60_000 }]);
    expect(state.record('b', pass, 61_000)).toEqual([
      { event: 'health-check-recovered', check: 'b', durationMs: 5, failedForMs: 60_000 },
      { event: 'worker-healthy', checks: ['a', 'b'] },
    ]);
    expect(state.endRound(['a', 'b'])).toEqual([]);
    expect(names(round(state, { a: fail('exit 1'), b: pass }, 70_000))).toEqual(['health-check-failed a', 'worker-unhealthy']);
  });

  it('a first round that fails announces the failures and the unhealthy worker, never a healthy one first', () => {
    const state = new HealthState();
    expect(names(round(state, { a: pass, b: fail('killed by SIGSEGV') }, 1000))).toEqual(['health-check-failed b', 'worker-unhealthy']);
  });

  it('forgets a check removed from the directory: the worker is healthy again if it was the failing one', () => {
    const state = new HealthState();
    round(state, { a: pass, b: fail('exit 1') }, 1000);
    expect(round(state, { a: pass }, 2000)).toEqual([{ event: 'worker-healthy', checks: ['a'] }]);
    expect(state.snapshot().checks.map((c) => c.name)).toEqual(['a']);
  });

  it('keeps what /v1/status shows: result, reason, when, how long, failed runs', () => {
    const state = new HealthState();
    round(state, { b: fail('exit 1'), a: pass }, Date.parse('2026-01-02T03:04:05Z'));
    round(state, { b: fail('exit 1'), a: pass }, Date.parse('2026-01-02T03:05:05Z'));
    expect(state.snapshot()).toEqual({
      healthy: false,
      checks: [
        { name: 'a', ok: true, lastRunAt: '2026-01-02T03:05:05.000Z', durationMs: 5, failures: 0 },
        { name: 'b', ok: false, reason: 'exit 1', lastRunAt: '2026-01-02T03:05:05.000Z', durationMs: 7, failures: 2 },
      ],
    });
  });
});
