import { describe, expect, it } from 'vitest';
import { decideResources, type ResourceFacts } from '../../agent/resources/resources.ts';

const base: ResourceFacts = { flags: {}, limits: {}, granted: {}, host: { cpus: 64, memoryMiB: 256_000 }, reservedMiB: 256 };

describe('decideResources', () => {
  it('flags win over everything, unreduced', () => {
    const slot = decideResources({ ...base, flags: { cpus: 4, memoryMiB: 8000 }, limits: { cpuQuota: 2, memoryBytes: 2 ** 30 } });
    expect(slot).toEqual({ cpus: 4, memoryMiB: 8000, source: { cpus: 'flag', memory: 'flag' } });
  });

  it('inside a limited container: the cgroup limits, never the host totals, less the reserve', () => {
    const slot = decideResources({ ...base, limits: { cpuQuota: 1.5, memoryBytes: 2 * 2 ** 30 } });
    expect(slot).toEqual({ cpus: 1, memoryMiB: 2048 - 256, source: { cpus: 'cgroup', memory: 'cgroup' } });
  });

  it('a cpuset narrower than the quota wins', () => {
    expect(decideResources({ ...base, limits: { cpuQuota: 8, cpusetCount: 2 } }).source.cpus).toBe('cpuset');
    expect(decideResources({ ...base, limits: { cpuQuota: 8, cpusetCount: 2 } }).cpus).toBe(2);
  });

  it("the scheduler's grant where no limit is visible, then the host", () => {
    expect(decideResources({ ...base, granted: { cpus: 8, memoryMiB: 16384 } })).toEqual({
      cpus: 8,
      memoryMiB: 16128,
      source: { cpus: 'scheduler', memory: 'scheduler' },
    });
    expect(decideResources(base)).toEqual({ cpus: 64, memoryMiB: 255_744, source: { cpus: 'host', memory: 'host' } });
  });

  it('never advertises less than 1 CPU or 1 MiB', () => {
    expect(decideResources({ ...base, limits: { cpuQuota: 0.5, memoryBytes: 100 * 2 ** 20 } })).toMatchObject({ cpus: 1, memoryMiB: 1 });
  });
});
