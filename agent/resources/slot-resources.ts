import { discoverCgroups } from '../cgroup/discover.ts';
import { readContainerLimits } from '../cgroup/limits.ts';
import type { AgentConfig } from '../config/options.ts';
import type { Traceability } from '../metadata/traceability.ts';
import { hostFacts } from './host-facts.ts';
import { decideResources, type SlotResources } from './resources.ts';

/** The partitionable slot's size: flags, then the scheduler's grant, then the container's cgroup limits, then the host. */
export async function slotResources(config: AgentConfig, trace: Traceability): Promise<SlotResources> {
  const limits = await discoverCgroups()
    .then(readContainerLimits)
    .catch(() => ({}));
  const needHost = (config.cpus === undefined && !trace.granted.cpus) || (config.memoryMiB === undefined && !trace.granted.memoryMiB);
  return decideResources({
    flags: { cpus: config.cpus, memoryMiB: config.memoryMiB },
    limits,
    granted: trace.granted,
    host: needHost ? hostFacts() : { cpus: 1, memoryMiB: 1 },
    reservedMiB: config.reservedMemoryMiB,
  });
}
