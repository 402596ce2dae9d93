import type { ContainerLimits } from '../cgroup/limits.ts';

export type ResourceSource = 'flag' | 'cgroup' | 'cpuset' | 'scheduler' | 'host';

export interface SlotResources {
  cpus: number;
  memoryMiB: number;
  source: { cpus: ResourceSource; memory: ResourceSource };
}

export interface ResourceFacts {
  flags: { cpus?: number | undefined; memoryMiB?: number | undefined };
  limits: ContainerLimits;
  /** What the scheduler says it granted (Marathon, Nomad): trusted only when no cgroup limit is visible. */
  granted: { cpus?: number; memoryMiB?: number };
  host: { cpus: number; memoryMiB: number };
  /** Memory kept for the agent and HTCondor's daemons, taken off a detected limit (not off a --memory flag). */
  reservedMiB: number;
}

/**
 * What the partitionable slot advertises. Inside a limited container the host's totals are a lie the negotiator
 * would believe: the container's cgroup limits come first, then the scheduler's word, then the host.
 * CPUs are whole numbers for HTCondor; a quota of 1.5 CPUs advertises 1 (never 0).
 */
export function decideResources(facts: ResourceFacts): SlotResources {
  const { flags, limits, granted, host, reservedMiB } = facts;

  let cpus: number;
  let cpuSource: ResourceSource;
  const cgroupCpus = [limits.cpuQuota, limits.cpusetCount].filter((value): value is number => value !== undefined);
  if (flags.cpus !== undefined) [cpus, cpuSource] = [flags.cpus, 'flag'];
  else if (cgroupCpus.length) {
    cpus = Math.min(...cgroupCpus);
    cpuSource = limits.cpuQuota !== undefined && limits.cpuQuota <= (limits.cpusetCount ?? Infinity) ? 'cgroup' : 'cpuset';
  } else if (granted.cpus !== undefined) [cpus, cpuSource] = [granted.cpus, 'scheduler'];
  else [cpus, cpuSource] = [host.cpus, 'host'];

  let memoryMiB: number;
  let memorySource: ResourceSource;
  if (flags.memoryMiB !== undefined) [memoryMiB, memorySource] = [flags.memoryMiB, 'flag'];
  else if (limits.memoryBytes !== undefined) [memoryMiB, memorySource] = [Math.floor(limits.memoryBytes / 1048576) - reservedMiB, 'cgroup'];
  else if (granted.memoryMiB !== undefined) [memoryMiB, memorySource] = [granted.memoryMiB - reservedMiB, 'scheduler'];
  else [memoryMiB, memorySource] = [host.memoryMiB - reservedMiB, 'host'];

  return {
    cpus: Math.max(1, Math.floor(cpus)),
    memoryMiB: Math.max(1, memoryMiB),
    source: { cpus: cpuSource, memory: memorySource },
  };
}
