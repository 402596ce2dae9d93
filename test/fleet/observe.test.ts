import { describe, expect, it } from 'vitest';
import type { BackendWorker } from '../../agent/fleet/backend.ts';
import { executeDiskKiB, observed, phaseOf, type AgentStatusBody } from '../../agent/fleet/observe.ts';

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

  it("takes a new worker's execute disk from the least any running worker reports, as a power of two in KiB", () => {
    const disk = (availableBytes: unknown): AgentStatusBody => ({ host: { executeDisk: { availableBytes } } });
    expect(executeDiskKiB([disk(40 * 2 ** 30), undefined, disk(100 * 2 ** 30), disk('lots'), {}])).toBe(32 * 2 ** 20);
    expect(executeDiskKiB([undefined, {}, disk(-1)])).toBeUndefined();
  });
});
