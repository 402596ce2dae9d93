import type { CgroupTree } from './tree.ts';

export interface JobUsage {
  peakMemoryBytes?: number;
  cpuSeconds?: number;
  oomKills: number;
  /** v1 memory.failcnt: how often the limit was hit (reclaim), whether or not something was killed. */
  memoryLimitHits?: number;
}

function field(text: string | undefined, name: string): number | undefined {
  const value = text ? new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] : undefined;
  return value === undefined ? undefined : Number(value);
}

/** What a job's cgroup recorded: peak memory, CPU time and OOM kills (read before the cgroup is removed). */
export async function readJobUsage(tree: CgroupTree, relative: string): Promise<JobUsage> {
  if (tree.version === 1) {
    const [peak, cpu, oom, failcnt] = await Promise.all([
      tree.read('memory', relative, 'memory.max_usage_in_bytes'),
      tree.read('cpuacct', relative, 'cpuacct.usage'),
      tree.read('memory', relative, 'memory.oom_control'),
      tree.read('memory', relative, 'memory.failcnt'),
    ]);
    // memory.oom_control has "oom_kill N" since Linux 4.13.
    const usage: JobUsage = { oomKills: field(oom, 'oom_kill') ?? 0 };
    if (failcnt !== undefined) usage.memoryLimitHits = Number(failcnt);
    if (peak !== undefined) usage.peakMemoryBytes = Number(peak);
    if (cpu !== undefined) usage.cpuSeconds = Number(cpu) / 1e9;
    return usage;
  }
  const [peak, stat, events] = await Promise.all([
    tree.read('memory', relative, 'memory.peak'),
    tree.read('cpu', relative, 'cpu.stat'),
    tree.read('memory', relative, 'memory.events'),
  ]);
  const usage: JobUsage = { oomKills: field(events, 'oom_kill') ?? 0 };
  if (peak !== undefined) usage.peakMemoryBytes = Number(peak);
  const usec = field(stat, 'usage_usec');
  if (usec !== undefined) usage.cpuSeconds = usec / 1e6;
  return usage;
}
