import type { BackendWorker } from './backend.ts';
import type { ObservedWorker, WorkerPhase } from './plan.ts';

/** The part of an agent's GET /v1/status the fleet reads. */
export interface AgentStatusBody {
  state?: string;
  advertised?: boolean;
  jobs?: unknown[];
}

/**
 * A worker's phase from what its engine and its agent say. No answer from a running container's agent counts as
 * starting (the agent is not up yet, or is busy): the fleet never drains or replaces a worker it cannot see.
 */
export function phaseOf(worker: BackendWorker, status: AgentStatusBody | undefined): WorkerPhase {
  if (!worker.running) return 'gone';
  if (!status) return 'starting';
  if (status.state === 'draining' || status.state === 'stopping') return 'draining';
  if (status.state !== 'running' || status.advertised !== true) return 'starting';
  return (status.jobs?.length ?? 0) > 0 ? 'busy' : 'idle';
}

export function observed(worker: BackendWorker, status: AgentStatusBody | undefined): ObservedWorker {
  return {
    id: worker.id,
    specHash: worker.specHash,
    phase: phaseOf(worker, status),
    runningJobs: status?.jobs?.length ?? 0,
    startedAt: worker.startedAt,
  };
}
