import { availableParallelism, totalmem } from 'node:os';

/**
 * The host's CPUs and memory: used only where no container limit applies (the agent outside a limited container).
 * Both from Node's own calls, on the cold-start path: CPUs from availableParallelism() (sched_getaffinity, so a cpuset
 * or taskset is respected, and no lscpu process is run), memory from totalmem() (sysinfo(2), MemTotal).
 */
export function hostFacts(): { cpus: number; memoryMiB: number } {
  return { cpus: availableParallelism(), memoryMiB: Math.floor(totalmem() / 1048576) };
}
