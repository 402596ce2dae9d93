import { createHash } from 'node:crypto';
import type { DockerApi } from './docker.ts';
import { fleetAttribute } from './prototype.ts';

/** What every worker of a fleet is started from. Its hash labels each worker, so a changed spec is an upgrade. */
export interface WorkerSpec {
  image: string;
  /** Environment of the worker (CONDOR_HOST, WN_* options). The admin token is added by the controller. */
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
  startedAt: number;
}

/**
 * Where workers run. Small on purpose, so that Kubernetes (a Deployment's pods), Nomad (allocations) and Marathon
 * (tasks) backends can follow the Docker one: list what runs, start one, forget one that has ended.
 */
export interface FleetBackend {
  list(): Promise<BackendWorker[]>;
  start(spec: WorkerSpec, hash: string, adminToken: string): Promise<string>;
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
  constructor(
    private readonly api: DockerApi,
    readonly fleet: string,
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
        startedAt: (c.Created ?? 0) * 1000,
      };
    });
  }

  async start(spec: WorkerSpec, hash: string, adminToken: string): Promise<string> {
    const name = `${this.fleet}-${hash.slice(0, 6)}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
    // Every worker advertises its fleet's name (WnFleet), so jobs can ask for this fleet and demand can match them.
    const env = { ...spec.env, [`WN_ATTR_${fleetAttribute}`]: this.fleet, WN_ADMIN_TOKEN: adminToken };
    const body = {
      Image: spec.image,
      Hostname: name,
      Cmd: ['run', ...spec.args],
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: { 'wn-fleet': this.fleet, 'wn-fleet-spec': hash },
      HostConfig: {
        Privileged: true,
        Binds: spec.mounts,
        ...(spec.network ? { NetworkMode: spec.network } : {}),
        ...(spec.memoryMiB ? { Memory: spec.memoryMiB * 1048576 } : {}),
        ...(spec.cpus ? { NanoCpus: Math.round(spec.cpus * 1e9) } : {}),
      },
      // A scheduler's grace period: the agent drains on SIGTERM; the engine must not SIGKILL it after 10 s.
      StopTimeout: 3600,
    };
    const created = await this.api.call<{ Id: string }>('POST', `/containers/create?name=${encodeURIComponent(name)}`, body);
    await this.api.call('POST', `/containers/${created.Id}/start`);
    return created.Id;
  }

  async forget(id: string): Promise<void> {
    await this.api.call('DELETE', `/containers/${id}`);
  }
}
