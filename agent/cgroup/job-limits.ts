import type { JobController } from './tree.ts';

export interface JobLimitOptions {
  /** pids.max per job; 0 means no limit. */
  pidsMax: number;
  /** Also cap CPU time at the slot's Cpus (CFS quota), not only weight it. */
  cpuHardLimit: boolean;
}

export interface JobLimits {
  /** The job's memory: the slot's Memory. */
  memoryBytes: number;
  /**
   * Added to the slot cgroup's memory limit when HTCondor's own cgroup, nested in it, holds the job to memoryBytes:
   * the starter (and an ssh_to_job sshd) live beside the job in the slot's cgroup and are not charged to the job,
   * as on a native execute point, so the job's own limit is the one it reaches.
   */
  memoryHeadroomBytes?: number;
  /** Relative CPU weight: v1 cpu.shares (1024 per CPU) or v2 cpu.weight (100 per CPU). */
  cpuWeight: number;
  cpuQuotaUs?: number;
  cpuPeriodUs?: number;
  pidsMax?: number;
}

export interface LimitWrite {
  controller: JobController;
  file: string;
  value: string;
}

const periodUs = 100_000;

/** A job's limits from its slot: memory hard limit = slot Memory, CPU weight proportional to slot Cpus. */
export function jobLimits(
  slot: { cpus: number; memoryMiB: number },
  options: JobLimitOptions,
  version: 1 | 2,
  memoryHeadroomBytes = 0,
): JobLimits {
  const cpus = Math.max(1, slot.cpus);
  const limits: JobLimits = {
    memoryBytes: Math.max(1, slot.memoryMiB) * 1048576,
    cpuWeight: version === 1 ? 1024 * cpus : Math.min(10_000, 100 * cpus),
  };
  if (memoryHeadroomBytes > 0) limits.memoryHeadroomBytes = memoryHeadroomBytes;
  if (options.cpuHardLimit) {
    limits.cpuQuotaUs = cpus * periodUs;
    limits.cpuPeriodUs = periodUs;
  }
  if (options.pidsMax > 0) limits.pidsMax = options.pidsMax;
  return limits;
}

/** The cgroup files to write for those limits, in the order they must be written. */
export function limitWrites(limits: JobLimits, version: 1 | 2): LimitWrite[] {
  const writes: LimitWrite[] = [];
  const memory = String(limits.memoryBytes + (limits.memoryHeadroomBytes ?? 0));
  if (version === 1) {
    writes.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: memory });
    writes.push({ controller: 'cpu', file: 'cpu.shares', value: String(limits.cpuWeight) });
    if (limits.cpuQuotaUs !== undefined) {
      writes.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(limits.cpuPeriodUs) });
      writes.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(limits.cpuQuotaUs) });
    }
  } else {
    writes.push({ controller: 'memory', file: 'memory.max', value: memory });
    // No swap for jobs: a job over its memory is stopped, not slowed to a crawl (v2 counts swap separately).
    writes.push({ controller: 'memory', file: 'memory.swap.max', value: '0' });
    writes.push({ controller: 'cpu', file: 'cpu.weight', value: String(limits.cpuWeight) });
    if (limits.cpuQuotaUs !== undefined)
      writes.push({ controller: 'cpu', file: 'cpu.max', value: `${limits.cpuQuotaUs} ${limits.cpuPeriodUs}` });
  }
  if (limits.pidsMax !== undefined) writes.push({ controller: 'pids', file: 'pids.max', value: String(limits.pidsMax) });
  return writes;
}
