import { describe, expect, it } from 'vitest';
import { memoryCgroupPath, processesUnder, processStartTime } from '../../agent/cgroup/members.ts';

describe('memoryCgroupPath', () => {
  it('v1: the memory line, alone or joint with other controllers', () => {
    const v1 = '12:pids:/a\n4:memory:/libpod_parent/libpod-1/jobs/slot1_1\n3:cpu,cpuacct:/libpod_parent/libpod-1/jobs/slot1_1\n';
    expect(memoryCgroupPath(v1)).toBe('/libpod_parent/libpod-1/jobs/slot1_1');
    expect(memoryCgroupPath('5:memory,hugetlb:/x/y\n')).toBe('/x/y');
  });
  it('v2: the unified line; hybrid hosts prefer the v1 memory line', () => {
    expect(memoryCgroupPath('0::/jobs/slot1_2/htcondor\n')).toBe('/jobs/slot1_2/htcondor');
    expect(memoryCgroupPath('0::/unified\n4:memory:/v1/path\n')).toBe('/v1/path');
    expect(memoryCgroupPath('')).toBeUndefined();
  });
});

describe('processesUnder', () => {
  it('finds this very process under its own cgroup, and nothing under a cgroup no process is in', async () => {
    const { readFile } = await import('node:fs/promises');
    const own = memoryCgroupPath(await readFile('/proc/self/cgroup', 'utf8'));
    expect(own).toBeDefined();
    expect(await processesUnder(own ?? '')).toContain(process.pid);
    expect(await processesUnder('/wn-agent-test/no-such-cgroup')).toEqual([]);
  });
});

describe('processStartTime', () => {
  it("is this process's boot-relative start, stable across reads, and undefined for a PID that does not exist", async () => {
    const first = await processStartTime(process.pid);
    expect(first).toMatch(/^\d+$/);
    expect(await processStartTime(process.pid)).toBe(first);
    expect(await processStartTime(2 ** 22 + 1)).toBeUndefined(); // above pid_max
  });
});
