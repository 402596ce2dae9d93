import { describe, expect, it } from 'vitest';
import { jobLimits, limitWrites } from '../../agent/cgroup/job-limits.ts';

describe('jobLimits', () => {
  it('memory = slot Memory, CPU weight proportional to Cpus (v1 shares)', () => {
    expect(jobLimits({ cpus: 2, memoryMiB: 128 }, { pidsMax: 4096, cpuHardLimit: false }, 1)).toEqual({
      memoryBytes: 134217728,
      cpuWeight: 2048,
      pidsMax: 4096,
    });
  });

  it('v2 weight is 100 per CPU, capped at the kernel maximum', () => {
    expect(jobLimits({ cpus: 4, memoryMiB: 1 }, { pidsMax: 0, cpuHardLimit: false }, 2).cpuWeight).toBe(400);
    expect(jobLimits({ cpus: 256, memoryMiB: 1 }, { pidsMax: 0, cpuHardLimit: false }, 2).cpuWeight).toBe(10_000);
  });

  it('optional hard CPU quota and no pids limit when 0', () => {
    expect(jobLimits({ cpus: 3, memoryMiB: 64 }, { pidsMax: 0, cpuHardLimit: true }, 1)).toEqual({
      memoryBytes: 67108864,
      cpuWeight: 3072,
      cpuQuotaUs: 300_000,
      cpuPeriodUs: 100_000,
    });
  });
});

describe('limitWrites', () => {
  it('v1 files', () => {
    const writes = limitWrites({ memoryBytes: 1024, cpuWeight: 2048, cpuQuotaUs: 200_000, cpuPeriodUs: 100_000, pidsMax: 64 }, 1);
    expect(writes.map((w) => `${w.controller}/${w.file}=${w.value}`)).toEqual([
      'memory/memory.limit_in_bytes=1024',
      'cpu/cpu.shares=2048',
      'cpu/cpu.cfs_period_us=100000',
      'cpu/cpu.cfs_quota_us=200000',
      'pids/pids.max=64',
    ]);
  });

  it('v2 files (synthetic: cgroup v2 cannot be exercised on this machine)', () => {
    const writes = limitWrites({ memoryBytes: 1024, cpuWeight: 200, cpuQuotaUs: 200_000, cpuPeriodUs: 100_000, pidsMax: 64 }, 2);
    expect(writes.map((w) => `${w.controller}/${w.file}=${w.value}`)).toEqual([
      'memory/memory.max=1024',
      'memory/memory.swap.max=0',
      'cpu/cpu.weight=200',
      'cpu/cpu.max=200000 100000',
      'pids/pids.max=64',
    ]);
  });
});

describe('memory headroom for the starter beside a nested HTCondor cgroup', () => {
  const headroom = 64 * 1048576;
  const writesOf = (version: 1 | 2, extra?: number): string[] =>
    limitWrites(jobLimits({ cpus: 1, memoryMiB: 512 }, { pidsMax: 0, cpuHardLimit: false }, version, extra), version).map(
      (w) => `${w.controller}/${w.file}=${w.value}`,
    );

  it("keeps the job's memory at the slot's and records the headroom apart", () => {
    const limits = jobLimits({ cpus: 1, memoryMiB: 512 }, { pidsMax: 0, cpuHardLimit: false }, 1, headroom);
    expect(limits.memoryBytes).toBe(512 * 1048576);
    expect(limits.memoryHeadroomBytes).toBe(headroom);
    expect(jobLimits({ cpus: 1, memoryMiB: 512 }, { pidsMax: 0, cpuHardLimit: false }, 1, 0)).not.toHaveProperty('memoryHeadroomBytes');
  });

  it('v1: memory.limit_in_bytes of the slot cgroup is the slot memory plus the headroom', () => {
    expect(writesOf(1, headroom)).toContain(`memory/memory.limit_in_bytes=${512 * 1048576 + headroom}`);
    expect(writesOf(1)).toContain(`memory/memory.limit_in_bytes=${512 * 1048576}`);
  });

  it('v2: memory.max of the slot cgroup is the slot memory plus the headroom, still without swap', () => {
    expect(writesOf(2, headroom)).toEqual([
      `memory/memory.max=${512 * 1048576 + headroom}`,
      'memory/memory.swap.max=0',
      'cpu/cpu.weight=100',
    ]);
    expect(writesOf(2)).toContain(`memory/memory.max=${512 * 1048576}`);
  });
});
