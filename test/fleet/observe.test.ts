import { describe, expect, it } from 'vitest';
import type { BackendWorker } from '../../agent/fleet/backend.ts';
import { observed, phaseOf } from '../../agent/fleet/observe.ts';

const running: BackendWorker = { id: 'c1', name: 'f-1', specHash: 'abc', running: true, address: '10.0.0.2', startedAt: 5 };

describe("a worker's phase from its engine and its agent's /v1/status", () => {
  it('maps the agent states, and an unanswered running worker to starting (never drained while unseen)', () => {
    expect(phaseOf({ ...running, running: false }, { state: 'running', advertised: true, jobs: [] })).toBe('gone');
    expect(phaseOf(running, undefined)).toBe('starting');
    expect(phaseOf(running, { state: 'starting', advertised: false, jobs: [] })).toBe('starting');
    expect(phaseOf(running, { state: 'running', advertised: false, jobs: [] })).toBe('starting');
    expect(phaseOf(running, { state: 'running', advertised: true, jobs: [] })).toBe('idle');
    expect(phaseOf(running, { state: 'running', advertised: true, jobs: [{}, {}] })).toBe('busy');
    expect(phaseOf(running, { state: 'draining', advertised: true, jobs: [{}] })).toBe('draining');
    expect(phaseOf(running, { state: 'stopping' })).toBe('draining');
  });

  it('carries the spec hash, the running job count and the start time into the plan', () => {
    expect(observed(running, { state: 'running', advertised: true, jobs: [{}] })).toEqual({
      id: 'c1',
      specHash: 'abc',
      phase: 'busy',
      runningJobs: 1,
      startedAt: 5,
    });
  });
});
