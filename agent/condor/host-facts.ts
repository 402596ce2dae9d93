/** The host's CPUs and memory: used only where no container limit applies (the agent outside a limited container). */
export async function hostFacts(): Promise<{ cpus: number; memoryMiB: number }> {
  // Loaded on demand: a large module that most containers (with cgroup limits) never need at start.
  const { default: si } = await import('systeminformation');
  const [cpu, mem] = await Promise.all([si.cpu(), si.mem()]);
  return { cpus: cpu.cores, memoryMiB: Math.floor(mem.total / 1048576) };
}
