import { createHash } from 'node:crypto';
import { attributeEnvPrefix, fleetAttribute, taskIdEnv, workerConfigOf, type AgentConfig } from '../contract/worker-contract.ts';

/** What every worker of a fleet is started from. Its hash labels each worker, so a changed spec is an upgrade. */
export interface WorkerSpec {
  image: string;
  /** Environment of the worker (CONDOR_HOST, WN_* options). Never the admin token: each worker gets its own as a file. */
  env: Record<string, string>;
  /** host:container[:ro] bind mounts (credentials, site configuration). */
  mounts: string[];
  /** The container network the pool is reachable on. */
  network?: string | undefined;
  cpus?: number | undefined;
  memoryMiB?: number | undefined;
  /** Arguments after `run` (agent flags). */
  args: string[];
}

export function specHash(spec: WorkerSpec): string {
  const env = Object.entries(spec.env).sort(([a], [b]) => a.localeCompare(b));
  const canonical = [spec.image, env, spec.mounts, spec.network ?? null, spec.cpus ?? null, spec.memoryMiB ?? null, spec.args];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 12);
}

/**
 * The environment a worker of this spec starts with: the spec's, plus the fleet's name as an attribute (WnFleet, so
 * jobs can ask for the fleet and demand can match them) and the worker's name as its task ID (ContainerTaskId, whatever
 * the engine tells a container about itself: under Docker, and under podman without Privileged, a container is told
 * only its 64-hex ID, which the prototype ad cannot know).
 */
export function workerEnv(spec: WorkerSpec, fleet: string, name: string): Record<string, string> {
  return { ...spec.env, [`${attributeEnvPrefix}${fleetAttribute}`]: fleet, [taskIdEnv]: name };
}

/**
 * The configuration a worker of this spec will run with, read by the worker's own parser (its errors are the
 * worker's). The image's own environment is not known here: a central manager the spec does not name is taken to
 * come from the image (a site image may set CONDOR_HOST), not counted as missing.
 */
export function workerConfig(spec: WorkerSpec, fleet: string, name: string): AgentConfig {
  return workerConfigOf({ CONDOR_HOST: imageCentralManager, ...workerEnv(spec, fleet, name) }, spec.args);
}

/** Stands for a CONDOR_HOST set by the image itself, where the spec has none. */
const imageCentralManager = 'central-manager.from-the-image';
