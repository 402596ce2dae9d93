import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CgroupDir, CgroupLayout } from '../../agent/cgroup/discover.ts';
import { readContainerLimits } from '../../agent/cgroup/limits.ts';

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'wn-cg-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), `${text}\n`);
  }
  return root;
}

const layoutOf = (entries: Record<string, CgroupDir>): CgroupLayout => ({ mode: 'v1', controllers: new Map(Object.entries(entries)) });

describe('readContainerLimits', () => {
  it('v1 files in a synthetic tree: memory limit, CFS quota and cpuset', async () => {
    const root = await tree({
      'memory/memory.limit_in_bytes': '2147483648',
      'cpu/cpu.cfs_quota_us': '150000',
      'cpu/cpu.cfs_period_us': '100000',
      'cpuset/cpuset.cpus': '0-1',
    });
    const limits = await readContainerLimits(
      layoutOf({
        memory: { version: 1, dir: join(root, 'memory'), mountPoint: join(root, 'memory') },
        cpu: { version: 1, dir: join(root, 'cpu'), mountPoint: join(root, 'cpu') },
        cpuset: { version: 1, dir: join(root, 'cpuset'), mountPoint: join(root, 'cpuset') },
      }),
    );
    expect(limits).toEqual({ memoryBytes: 2147483648, cpuQuota: 1.5, cpusetCount: 2 });
  });

  it('v1 "unlimited" values mean no limit', async () => {
    const root = await tree({
      'memory/memory.limit_in_bytes': '9223372036854771712',
      'cpu/cpu.cfs_quota_us': '-1',
      'cpu/cpu.cfs_period_us': '100000',
    });
    const limits = await readContainerLimits(
      layoutOf({
        memory: { version: 1, dir: join(root, 'memory'), mountPoint: join(root, 'memory') },
        cpu: { version: 1, dir: join(root, 'cpu'), mountPoint: join(root, 'cpu') },
      }),
    );
    expect(limits).toEqual({});
  });

  it('synthetic cgroup2 tree: memory.max and cpu.max, the tighter of the cgroup and its visible parent', async () => {
    const root = await tree({
      'memory.max': '4294967296',
      'cpu.max': 'max 100000',
      'agent/memory.max': 'max',
      'agent/cpu.max': '200000 100000',
      'agent/cpuset.cpus.effective': '0-7',
    });
    const v2: CgroupDir = { version: 2, dir: join(root, 'agent'), mountPoint: root };
    const limits = await readContainerLimits({
      mode: 'v2',
      controllers: new Map([
        ['memory', v2],
        ['cpu', v2],
        ['cpuset', v2],
      ]),
      unified: v2,
    });
    expect(limits).toEqual({ memoryBytes: 4294967296, cpuQuota: 2, cpusetCount: 8 });
  });
});
