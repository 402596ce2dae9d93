import type { BackendWorker } from './backend.ts';
import type { ObservedWorker, WorkerPhase } from './plan.ts';

import type { ReceivedStatusBody } from '../contract/worker-contract.ts';

/** An agent's GET /v1/status as the fleet receives it (the contract's body, any field possibly missing). */
export type AgentStatusBody = ReceivedStatusBody;

/**
 * The execute disk a new worker will advertise, from what the running ones report (they share the engine host's
 * storage): the least free space among them, in KiB, rounded down to a power of two so that the prototype ad, and
 * with it every cached verdict, does not change with each byte written. Undefined when no worker has said.
 */
export function executeDiskKiB(statuses: readonly (AgentStatusBody | undefined)[]): number | undefined {
  const free = statuses
    .map((s) => Number(s?.host?.executeDisk?.availableBytes))
    .filter((bytes) => Number.isFinite(bytes) && bytes > 0)
    .map((bytes) => Math.floor(bytes / 1024));
  if (free.length === 0) return undefined;
  return 2 ** Math.floor(Math.log2(Math.max(1, Math.min(...free))));
}

/**
 * A worker's phase from what its engine and its agent say. No answer from a running container's agent counts as
 * starting (the agent is not up yet, or is busy): the fleet never drains or replaces a worker it cannot see.
 */
export function phaseOf(worker: BackendWorker, status: AgentStatusBody | undefined): WorkerPhase {
  if (!worker.running) return 'gone';
  if (!status) return 'starting';
  if (status.state === 'draining' || status.state === 'stopping' || status.state === 'exited') return 'draining';
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
