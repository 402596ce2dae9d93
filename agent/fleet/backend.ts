import { createHash } from 'node:crypto';
import { AgentError } from '../errors.ts';
import type { DockerApi } from './docker.ts';
import { fleetAttribute } from './prototype.ts';
import { capabilityHostConfig, cgroupBind, resolvePrivileges, type WorkerPrivileges } from './privileges.ts';
import { tar, type TarEntry } from './tar.ts';
import { workerCredentialFiles, type FleetCredentials } from './worker-credentials.ts';
import { workerName } from './worker-name.ts';

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

interface ContainerSummary {
  Id: string;
  Names?: string[];
  State?: string;
  Labels?: Record<string, string>;
  Created?: number;
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

/** Workers as containers of a Docker Engine API (Docker, or podman system service), labelled with the fleet's name. */
export class DockerBackend implements FleetBackend {
  private privileges: 'capabilities' | 'privileged' | undefined;

  constructor(
    private readonly api: DockerApi,
    readonly fleet: string,
    private readonly mode: WorkerPrivileges = 'auto',
  ) {}

  async list(): Promise<BackendWorker[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: [`wn-fleet=${this.fleet}`] }));
    const containers = await this.api.call<ContainerSummary[]>('GET', `/containers/json?all=true&filters=${filters}`);
    return containers.map((c) => {
      const networks = Object.values(c.NetworkSettings?.Networks ?? {});
      return {
        id: c.Id,
        name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
        specHash: c.Labels?.['wn-fleet-spec'] ?? '',
        running: c.State === 'running' || c.State === 'created' || c.State === 'configured',
        address: networks.map((n) => n.IPAddress).find((ip) => ip) || undefined,
        tls: c.Labels?.['wn-fleet-admin'] === 'https',
        startedAt: (c.Created ?? 0) * 1000,
      };
    });
  }

  async start(spec: WorkerSpec, hash: string, credentials: FleetCredentials): Promise<string> {
    const name = workerName(this.fleet, hash);
    const { files, args } = workerCredentialFiles(credentials, name);
    this.privileges ??= await resolvePrivileges(this.mode, this.api);
    return this.launch(name, workerContainer(this.fleet, spec, hash, name, args, credentials.tls !== undefined, this.privileges), files);
  }

  /** Creates the container, puts `files` into it, starts it; a container that cannot be given its files or started is removed. */
  async launch(name: string, body: Record<string, unknown>, files: readonly TarEntry[]): Promise<string> {
    const created = await this.api.call<{ Id: string }>('POST', `/containers/create?name=${encodeURIComponent(name)}`, body);
    try {
      // Into the created container's own filesystem, before anything in it runs: the agent reads the files at start.
      await this.api.put(`/containers/${created.Id}/archive?path=/`, tar(files), 'application/x-tar');
      await this.api.call('POST', `/containers/${created.Id}/start`);
    } catch (error) {
      // A container left created would be listed as a worker that never answers, holding a token no one uses.
      await this.api.call('DELETE', `/containers/${created.Id}?force=true`).catch(() => undefined);
      throw new AgentError('WN_ERR_FLEET_BACKEND', `worker ${name} not started (its container was removed): ${(error as Error).message}`, {
        cause: error,
      });
    }
    return created.Id;
  }

  async forget(id: string): Promise<void> {
    await this.api.call('DELETE', `/containers/${id}`);
  }
}

/**
 * A worker's container as POST /containers/create takes it. `credentialArgs` point the agent at the files the fleet
 * puts into the container before it starts; nothing secret is in the body (the engine shows it to anyone who can
 * inspect the container, and the environment is in every process's /proc/<pid>/environ).
 */
export function workerContainer(
  fleet: string,
  spec: WorkerSpec,
  hash: string,
  name: string,
  credentialArgs: readonly string[],
  tls: boolean,
  privileges: 'capabilities' | 'privileged' = 'privileged',
): Record<string, unknown> {
  // Every worker advertises its fleet's name (WnFleet), so jobs can ask for this fleet and demand can match them.
  // Its name is its task ID (ContainerTaskId), whatever the engine tells a container about itself: under Docker, and
  // under podman without Privileged, a container is told only its 64-hex ID, which the prototype ad cannot know.
  const env = { ...spec.env, [`WN_ATTR_${fleetAttribute}`]: fleet, WN_TASK_ID: name };
  return {
    Image: spec.image,
    Hostname: name,
    Cmd: ['run', ...credentialArgs, ...spec.args],
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: { 'wn-fleet': fleet, 'wn-fleet-spec': hash, 'wn-fleet-admin': tls ? 'https' : 'http' },
    HostConfig: {
      ...(privileges === 'privileged'
        ? { Privileged: true, Binds: spec.mounts }
        : { ...capabilityHostConfig(), Binds: [...spec.mounts, cgroupBind] }),
      ...(spec.network ? { NetworkMode: spec.network } : {}),
      ...(spec.memoryMiB ? { Memory: spec.memoryMiB * 1048576 } : {}),
      ...(spec.cpus ? { NanoCpus: Math.round(spec.cpus * 1e9) } : {}),
    },
    // A scheduler's grace period: the agent drains on SIGTERM; the engine must not SIGKILL it after 10 s.
    StopTimeout: 3600,
  };
}
