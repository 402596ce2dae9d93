import { availableParallelism } from 'node:os';

/** The host's CPUs and memory: used only where no container limit applies (the agent outside a limited container). */
export async function hostFacts(): Promise<{ cpus: number; memoryMiB: number }> {
  // Loaded on demand: a large module that most containers (with cgroup limits) never need at start. CPUs from
  // availableParallelism() (sched_getaffinity: a cpuset or taskset is respected, and no lscpu process is run).
  const { default: si } = await import('systeminformation');
  const mem = await si.mem();
  return { cpus: availableParallelism(), memoryMiB: Math.floor(mem.total / 1048576) };
}
