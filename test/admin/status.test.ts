import { describe, expect, it } from 'vitest';
import { readiness, type AgentStatus } from '../../agent/admin/status.ts';
import type { HealthSnapshot } from '../../agent/health/state.ts';

// A status object written here; the worker's own is read through its port by the integration tests.
function agentStatus(health?: HealthSnapshot): AgentStatus {
  return {
    state: 'running',
    startedAt: 0,
    advertised: true,
    masterRestarts: 0,
    counters: {
      jobsStarted: 0,
      jobsFinished: 0,
      oomKills: 0,
      jobsVacated: 0,
      adminAuthFailures: 0,
      jobEnds: { success: 3, failure: 1, interrupted: 0 },
    },
    cvmfs: () => [{ repo: 'atlas.cern.ch', required: true, healthy: true }],
    jobs: () => [],
    idleRemainingMs: () => undefined,
    slots: async () => [],
    jobMemoryBytes: async () => undefined,
    ...(health ? { health: () => health } : {}),
  };
}

const at = '2026-01-02T03:04:05.000Z';

describe('readiness', () => {
  it('is ready with every health check passing, or with none configured', async () => {
    expect(await readiness(agentStatus())).toEqual({ ready: true, reasons: [] });
    const passing = { healthy: true, checks: [{ name: '10-disk', ok: true, lastRunAt: at, durationMs: 3, failures: 0 }] };
    expect(await readiness(agentStatus(passing))).toEqual({ ready: true, reasons: [] });
  });

  it('is not ready while a health check fails, and says which and why', async () => {
    const failing: HealthSnapshot = {
      healthy: false,
      checks: [
        { name: '10-disk', ok: true, lastRunAt: at, durationMs: 3, failures: 0 },
        { name: '20-software', ok: false, reason: 'exit 1: /cvmfs/sw missing', lastRunAt: at, durationMs: 9, failures: 4 },
      ],
    };
    expect(await readiness(agentStatus(failing))).toEqual({
      ready: false,
      reasons: ['health check 20-software fails: exit 1: /cvmfs/sw missing'],
    });
  });
});
