import { describe, expect, it } from 'vitest';
import type { CgroupDir, CgroupLayout } from '../../agent/cgroup/discover.ts';
import { prepareCondorCgroups } from '../../agent/isolation/condor-cgroups.ts';

// Only the decisions taken before anything is created or mounted: the bind of cpuacct at /sys/fs/cgroup/cpu,cpuacct
// and HTCondor's use of it are covered by test/isolation/job-cgroups.int.test.ts.

const v1 = (mountPoint: string, dir = `${mountPoint}/wntest/wn1`): CgroupDir => ({ version: 1, dir, mountPoint });

const withPidNs = { pidNamespaces: true, selfCgroup: '' };

describe('prepareCondorCgroups', () => {
  it("cgroup v2: HTCondor's cgroup code stays off, and the reason names HTCONDOR-2590", async () => {
    const unified: CgroupDir = { version: 2, dir: '/sys/fs/cgroup/wn1', mountPoint: '/sys/fs/cgroup' };
    const layout: CgroupLayout = {
      mode: 'v2',
      controllers: new Map([
        ['cpu', unified],
        ['memory', unified],
        ['pids', unified],
      ]),
      unified,
    };
    const result = await prepareCondorCgroups(layout, '', withPidNs);
    expect(result.nested).toBe(false);
    expect(!result.nested && result.reason).toMatch(/HTCONDOR-2590/);
    // Without PID namespaces it would nest, but HTCondor looks for the tree at /sys/fs/cgroup only.
    const moved = { ...layout, controllers: new Map([['memory', { version: 2 as const, dir: '/run/cg2/x', mountPoint: '/run/cg2' }]]) };
    expect(await prepareCondorCgroups(moved, '', { pidNamespaces: false, selfCgroup: '0::/x/agent\n' })).toEqual({
      nested: false,
      reason: 'the cgroup v2 tree is mounted at /run/cg2, not /sys/fs/cgroup',
    });
  });

  it('no memory controller: nothing for HTCondor to hold a job to', async () => {
    const layout: CgroupLayout = { mode: 'v1', controllers: new Map([['cpu', v1('/sys/fs/cgroup/cpu')]]) };
    expect(await prepareCondorCgroups(layout, '', withPidNs)).toEqual({ nested: false, reason: 'no memory cgroup controller' });
    expect(await prepareCondorCgroups({ mode: 'none', controllers: new Map() }, '', withPidNs)).toMatchObject({ nested: false });
  });

  it('v1 memory mounted elsewhere than /sys/fs/cgroup/memory, where HTCondor looks: off, saying where it is', async () => {
    const layout: CgroupLayout = {
      mode: 'v1',
      controllers: new Map([
        ['memory', v1('/run/cgroups/memory')],
        ['cpuacct', v1('/run/cgroups/cpuacct')],
      ]),
    };
    const result = await prepareCondorCgroups(layout, '', withPidNs);
    expect(result).toEqual({ nested: false, reason: 'the memory hierarchy is mounted at /run/cgroups/memory, not /sys/fs/cgroup/memory' });
  });
});
