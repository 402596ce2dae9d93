import { AgentError } from '../errors.ts';
import type { BackendWorker, FleetBackend } from './backend.ts';
import type { DockerApi } from './docker.ts';
import { capabilityHostConfig, cgroupBind, resolvePrivileges, type WorkerPrivileges } from './privileges.ts';
import { workerEnv, type WorkerSpec } from './spec.ts';
import { tar, type TarEntry } from './tar.ts';
import { workerCredentialFiles, type FleetCredentials } from './worker-credentials.ts';
import { workerName } from './worker-name.ts';

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
  const env = workerEnv(spec, fleet, name);
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
