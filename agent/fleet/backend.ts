import type { WorkerSpec } from './spec.ts';
import type { FleetCredentials } from './worker-credentials.ts';

export interface BackendWorker {
  id: string;
  name: string;
  specHash: string;
  running: boolean;
  /** Address the worker's agent answers on (port 9680), on the fleet's network. */
  address?: string | undefined;
  /** Started serving its admin port with TLS (a label, so that turning TLS on or off leaves no worker unread). */
  tls?: boolean | undefined;
  startedAt: number;
}

/**
 * Where workers run. Small on purpose, so that Kubernetes (a Deployment's pods), Nomad (allocations) and Marathon
 * (tasks) backends can follow the Docker one: list what runs, start one, forget one that has ended.
 */
export interface FleetBackend {
  list(): Promise<BackendWorker[]>;
  /** Starts a worker with its own admin token (derived from the fleet's key and its name) and the TLS files, if any. */
  start(spec: WorkerSpec, hash: string, credentials: FleetCredentials): Promise<string>;
  /** Removes a worker that has exited (never one that runs: workers leave by draining). */
  forget(id: string): Promise<void>;
}
