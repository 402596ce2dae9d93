import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { CgroupDir, CgroupLayout } from './discover.ts';
import { countCpuList } from '../util/cpu-list.ts';

/** The limits a container runtime set on our cgroup, as far as we can see them. */
export interface ContainerLimits {
  /** Hard CPU limit in CPUs (quota / period), if any. */
  cpuQuota?: number;
  /** CPUs we may run on (cpuset), if restricted. */
  cpusetCount?: number;
  /** Hard memory limit in bytes, if any. */
  memoryBytes?: number;
}

// cgroup v1 reports "no limit" as a huge page-aligned number (PAGE_COUNTER_MAX * page size) rather than -1.
const v1Unlimited = 2 ** 62;

async function read(dir: string, file: string): Promise<string | undefined> {
  try {
    return (await readFile(posix.join(dir, file), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Walks from our cgroup up to the mount point: a parent's limit binds us too. The smallest wins. */
async function smallest(cg: CgroupDir, readOne: (dir: string) => Promise<number | undefined>): Promise<number | undefined> {
  let best: number | undefined;
  for (let dir = cg.dir; ; dir = posix.dirname(dir)) {
    const value = await readOne(dir);
    if (value !== undefined && (best === undefined || value < best)) best = value;
    if (dir === cg.mountPoint || dir === '/' || !dir.startsWith(cg.mountPoint)) break;
  }
  return best;
}

export async function readContainerLimits(layout: CgroupLayout): Promise<ContainerLimits> {
  const limits: ContainerLimits = {};
  const memory = layout.controllers.get('memory');
  if (memory) {
    const bytes = await smallest(memory, async (dir) => {
      if (memory.version === 1) {
        const value = Number(await read(dir, 'memory.limit_in_bytes'));
        return Number.isFinite(value) && value > 0 && value < v1Unlimited ? value : undefined;
      }
      const value = await read(dir, 'memory.max');
      return value && value !== 'max' ? Number(value) : undefined;
    });
    if (bytes !== undefined) limits.memoryBytes = bytes;
  }
  const cpu = layout.controllers.get('cpu');
  if (cpu) {
    const quota = await smallest(cpu, async (dir) => {
      if (cpu.version === 1) {
        const q = Number(await read(dir, 'cpu.cfs_quota_us'));
        const p = Number(await read(dir, 'cpu.cfs_period_us'));
        return q > 0 && p > 0 ? q / p : undefined;
      }
      const [q, p] = (await read(dir, 'cpu.max'))?.split(/\s+/) ?? [];
      return q && q !== 'max' && Number(p) > 0 ? Number(q) / Number(p) : undefined;
    });
    if (quota !== undefined) limits.cpuQuota = quota;
  }
  const cpuset = layout.controllers.get('cpuset');
  if (cpuset) {
    const list = (await read(cpuset.dir, cpuset.version === 1 ? 'cpuset.cpus' : 'cpuset.cpus.effective')) ?? '';
    const count = countCpuList(list);
    if (count !== undefined) limits.cpusetCount = count;
  }
  return limits;
}
