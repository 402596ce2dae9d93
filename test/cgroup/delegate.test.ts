import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { delegate } from '../../agent/cgroup/delegate.ts';
import type { CgroupDir } from '../../agent/cgroup/discover.ts';
import { CgroupTree } from '../../agent/cgroup/tree.ts';

// A plain directory stands in for cgroupfs: the kernel's side (moving processes, enforcing limits) is not there, so
// these tests check what the agent writes where. The real v1 behaviour is in test/isolation/*.int.test.ts.
async function fakeCgroup(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'wn-fakecg-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

describe('delegate', () => {
  it('synthetic cgroup2 tree: moves processes into the agent leaf first, then enables cpu, memory and pids for children', async () => {
    const root = await fakeCgroup({ 'cgroup.procs': '1\n7\n', 'cgroup.subtree_control': '' });
    const dir: CgroupDir = { version: 2, dir: root, mountPoint: root };
    const tree = new CgroupTree({
      mode: 'v2',
      controllers: new Map([
        ['cpu', dir],
        ['memory', dir],
        ['pids', dir],
      ]),
      unified: dir,
    });
    const result = await delegate(tree, 2 * 2 ** 30);
    expect(result.moved).toBe(2);
    // A real cgroup.procs takes one PID per write; the fake file keeps the last.
    expect(await readFile(join(root, 'agent', 'cgroup.procs'), 'utf8')).toBe('7');
    expect(await readFile(join(root, 'cgroup.subtree_control'), 'utf8')).toBe('+cpu +memory +pids +io'); // a plain file takes the first write
    expect(await readFile(join(root, 'jobs', 'cgroup.subtree_control'), 'utf8')).toBe('+cpu +memory +pids +io');
    expect(await readFile(join(root, 'jobs', 'memory.max'), 'utf8')).toBe(String(2 * 2 ** 30));
  });

  it('v1 (synthetic directories): every hierarchy gets agent/ and jobs/, memory caps all jobs together', async () => {
    const base = await fakeCgroup({ 'memory/cgroup.procs': '1\n', 'cpu/cgroup.procs': '1\n', 'pids/cgroup.procs': '1\n' });
    const v1 = (name: string): CgroupDir => ({ version: 1, dir: join(base, name), mountPoint: join(base, name) });
    const tree = new CgroupTree({
      mode: 'v1',
      controllers: new Map([
        ['memory', v1('memory')],
        ['cpu', v1('cpu')],
        ['pids', v1('pids')],
      ]),
    });
    await mkdir(join(base, 'memory', 'jobs', 'slot1_3'), { recursive: true }); // a leftover from an earlier run
    const result = await delegate(tree, 1024);
    expect(result.removedLeftovers).toEqual(['slot1_3']);
    for (const name of ['memory', 'cpu', 'pids'])
      expect((await readdir(join(base, name))).sort()).toEqual(['agent', 'cgroup.procs', 'jobs']);
    expect(await readFile(join(base, 'memory', 'jobs', 'memory.limit_in_bytes'), 'utf8')).toBe('1024');
  });
});
