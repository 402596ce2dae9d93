import type { SlotState } from '../condor/startd.ts';
import type { HealthSnapshot } from '../health/state.ts';
import type { RunningJob } from '../isolation/job-cgroups.ts';
import type { HostInfo } from './host-info.ts';

/** 'exited' once every part is stopped: the summary follows. */
export type AgentState = 'starting' | 'running' | 'draining' | 'stopping' | 'exited';

export type JobStartStep = 'placement' | 'attributes';

/**
 * The agent's own steps of each job start, as they happen: placement (the starter in its cgroup) and attributes (the
 * traceability attributes recorded while the job wrapper waits). Metrics listen once they are loaded (after
 * condor_master starts, before any job can); until then nothing is kept.
 */
export class JobStartSteps {
  private listener: ((step: JobStartStep, seconds: number) => void) | undefined;

  observe(step: JobStartStep, ms: number): void {
    this.listener?.(step, ms / 1000);
  }

  listen(listener: (step: JobStartStep, seconds: number) => void): void {
    this.listener = listener;
  }
}

/** What the agent knows about itself now: read by /readyz, /metrics and `wn-agent status`. */
export interface AgentStatus {
  state: AgentState;
  startedAt: number;
  /** The startd has been seen in the collector (and not lost since a master restart). */
  advertised: boolean;
  masterRestarts: number;
  counters: {
    jobsStarted: number;
    jobsFinished: number;
    oomKills: number;
    jobsVacated: number;
    adminAuthFailures: number;
    /** Jobs' ends as their starters logged them (agent/health/job-ends.ts). */
    jobEnds: Record<'success' | 'failure' | 'interrupted', number>;
  };
  cvmfs(): { repo: string; required: boolean; healthy: boolean }[];
  jobs(): RunningJob[];
  idleRemainingMs(): number | undefined;
  /** When the drain under way must end (epoch ms). */
  drainDeadline?: number | undefined;
  /** The startd's slots now, asked of the startd itself. */
  slots(): Promise<SlotState[]>;
  /** Memory in use by a job's cgroup. */
  jobMemoryBytes(cgroup: string): Promise<number | undefined>;
  /**
   * Whether the agent can place a job now: the same file operations placement makes (the jobs cgroup read), under a
   * deadline. It fails when libuv's threads are all stuck, which nothing else the agent reports would show.
   */
  placementCheck?(): Promise<string | undefined>;
  /** The agent's part of each job start, for the histogram in /metrics. */
  jobStartSteps?: JobStartSteps;
  /** The host and the execute directory's disk (systeminformation, off the start-up path). */
  host?(): Promise<HostInfo | undefined>;
  /** The health checks' last results: the site's (--health-check-dir) and the agent's own (execute-disk, black-hole). */
  health?(): HealthSnapshot | undefined;
}

/**
 * Ready = worth sending work to: advertised, not draining, jobs can be placed, every required CVMFS repository healthy,
 * every health check passing (the site's, the execute disk, no black hole).
 */
export async function readiness(status: AgentStatus): Promise<{ ready: boolean; reasons: string[] }> {
  const reasons: string[] = [];
  const placement = await status.placementCheck?.();
  if (placement) reasons.push(placement);
  if (status.state !== 'running') reasons.push(`state is ${status.state}`);
  if (!status.advertised) reasons.push('the startd is not advertised in the collector');
  for (const repo of status.cvmfs())
    if (repo.required && !repo.healthy) reasons.push(`required CVMFS repository ${repo.repo} is unhealthy`);
  for (const check of status.health?.()?.checks ?? [])
    if (!check.ok) reasons.push(`health check ${check.name} fails: ${check.reason ?? 'failed'}`);
  return { ready: reasons.length === 0, reasons };
}
