import type { HostInfo } from '../admin/host-info.ts';
import type { AgentState, AgentStatus } from '../admin/status.ts';
import type { SlotState } from '../condor/startd.ts';
import type { HealthSnapshot } from '../health/state.ts';
import type { JobLimits } from '../cgroup/job-limits.ts';

/** A running job as GET /v1/status lists it. */
export interface StatusJob {
  slot: string;
  cgroup: string;
  jobId: string | undefined;
  limits: JobLimits;
  verified: boolean;
  runningS: number;
  memoryBytes: number | undefined;
}

/** The body of an agent's GET /v1/status: the server builds exactly this, `wn-agent status` and the fleet read it. */
export interface AgentStatusBody {
  state: AgentState;
  uptimeS: number;
  advertised: boolean;
  masterRestarts: number;
  counters: AgentStatus['counters'];
  idleRemainingMs: number | undefined;
  cvmfs: ReturnType<AgentStatus['cvmfs']>;
  health: HealthSnapshot | undefined;
  drainRemainingMs: number | undefined;
  slots: SlotState[];
  host: HostInfo | undefined;
  jobs: StatusJob[];
}

/**
 * A status body as it arrives from a worker over the network: any field may be missing or of another type (a
 * worker of another version, or one a job has taken over). Readers check each value they use.
 */
export type ReceivedStatusBody = { [K in keyof AgentStatusBody]?: unknown } & {
  state?: AgentState | string;
  advertised?: boolean;
  jobs?: unknown[];
  host?: { executeDisk?: { availableBytes?: unknown } };
};
