import si from 'systeminformation';

/** The host's CPUs and memory: used only where no container limit applies (the agent outside a limited container). */
export async function hostFacts(): Promise<{ cpus: number; memoryMiB: number }> {
  const [cpu, mem] = await Promise.all([si.cpu(), si.mem()]);
  return { cpus: cpu.cores, memoryMiB: Math.floor(mem.total / 1048576) };
}
