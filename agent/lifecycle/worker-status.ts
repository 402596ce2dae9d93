import { hostInfoReader } from '../admin/host-info.ts';
import type { AgentStatus, JobStartSteps } from '../admin/status.ts';
import type { CondorLayout } from '../condor/layout.ts';
import { startdSlots } from '../condor/startd.ts';
import type { CvmfsManager } from '../cvmfs/manager.ts';
import type { HealthParts } from '../health/health-parts.ts';
import type { RunningIsolation } from '../isolation/start.ts';
import type { IdleClock } from './idle.ts';

/**
 * What the worker knows about itself, read by /readyz, /metrics, /v1/status and `wn-agent status`: counters and
 * flags the phases set, and readers of the parts. Parts started by later phases (isolation) read as empty until then.
 */
export function workerStatus(parts: {
  startedAt: number;
  steps: JobStartSteps;
  layout: CondorLayout;
  cvmfs: Pick<CvmfsManager, 'repos'>;
  health: Pick<HealthParts, 'status'>;
  idle: IdleClock | undefined;
  isolation: () => RunningIsolation | undefined;
}): AgentStatus {
  const { layout, isolation } = parts;
  return {
    jobStartSteps: parts.steps,
    state: 'starting',
    startedAt: parts.startedAt,
    advertised: false,
    masterRestarts: 0,
    counters: {
      jobsStarted: 0,
      jobsFinished: 0,
      oomKills: 0,
      jobsVacated: 0,
      adminAuthFailures: 0,
      jobEnds: { success: 0, failure: 0, interrupted: 0 },
    },
    cvmfs: () => parts.cvmfs.repos.map(({ repo, required, healthy }) => ({ repo, required, healthy })),
    health: () => parts.health.status(),
    jobs: () => isolation()?.jobs.running ?? [],
    idleRemainingMs: () => parts.idle?.remaining(Date.now()),
    slots: () => startdSlots(layout.configFile, layout.log).catch(() => []),
    placementCheck: async () => isolation()?.jobs.probe(),
    host: hostInfoReader(layout.execute),
    jobMemoryBytes: async (cgroup) => {
      const tree = isolation()?.tree;
      const text = await tree?.read('memory', cgroup, tree.version === 1 ? 'memory.usage_in_bytes' : 'memory.current');
      return text === undefined ? undefined : Number(text);
    },
  };
}
