import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CgroupDir, CgroupLayout } from '../../agent/cgroup/discover.ts';
import { CgroupTree, subtreeLimits } from '../../agent/cgroup/tree.ts';

// Plain directories stand in for cgroupfs, as in delegate.test.ts: rmdir of a plain directory with a file in it fails
// (ENOTEMPTY) where a real cgroup directory would go, so removal tests make directories only.

/** A v1 host as HTCondor sees it: cpu and cpuacct joint, memory, pids, and the freezer and devices hierarchies. */
async function v1Host(extra: string[] = []): Promise<{ base: string; tree: CgroupTree; hierarchy: (name: string) => string }> {
  const base = await mkdtemp(join(tmpdir(), 'wn-tree-'));
  const hierarchy = (name: string): string => join(base, name, 'wntest', 'wn1');
  const dir = (name: string): CgroupDir => ({ version: 1, dir: hierarchy(name), mountPoint: join(base, name) });
  const names = ['cpu,cpuacct', 'memory', 'pids', 'freezer', 'devices', ...extra];
  for (const name of names) await mkdir(hierarchy(name), { recursive: true });
  const layout: CgroupLayout = {
    mode: 'v1',
    controllers: new Map([
      ['cpu', dir('cpu,cpuacct')],
      ['cpuacct', dir('cpu,cpuacct')],
      ['memory', dir('memory')],
      ['pids', dir('pids')],
      ['freezer', dir('freezer')],
      ['devices', dir('devices')],
      ...extra.map((name): [string, CgroupDir] => [name, dir(name)]),
    ]),
  };
  return { base, tree: new CgroupTree(layout), hierarchy };
}

async function makeDirs(root: string, paths: string[]): Promise<void> {
  for (const path of paths) await mkdir(join(root, path), { recursive: true });
}

/** Every directory below `root`, relative, by walking it ourselves. */
async function allDirs(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => posix.relative(root, join(e.parentPath, e.name)));
}

/** HTCondor's job cgroup in the slot's, and sub-cgroups the job's user made in it. */
const jobTree = [
  'jobs/slot1_1/condor_var_lib_condor_execute_slot1_1@wn1/sub/a',
  'jobs/slot1_1/condor_var_lib_condor_execute_slot1_1@wn1/sub/b',
  'jobs/slot1_1/condor_var_lib_condor_execute_slot1_1@wn1/other',
];

describe('CgroupTree layout', () => {
  it('v1: one hierarchy per distinct directory, freezer and devices kept for clean-up only', async () => {
    const { tree, hierarchy } = await v1Host(['blkio']);
    expect(tree.hierarchies.sort()).toEqual([hierarchy('cpu,cpuacct'), hierarchy('memory'), hierarchy('pids')].sort());
    expect(tree.cleanupRoots).toEqual([hierarchy('freezer'), hierarchy('devices')]);
  });

  it('v2: no clean-up roots, the one unified directory serves every controller', () => {
    const dir: CgroupDir = { version: 2, dir: '/sys/fs/cgroup/wn1', mountPoint: '/sys/fs/cgroup' };
    const tree = new CgroupTree({
      mode: 'v2',
      controllers: new Map([
        ['cpu', dir],
        ['memory', dir],
        ['pids', dir],
      ]),
      unified: dir,
    });
    expect(tree.hierarchies).toEqual(['/sys/fs/cgroup/wn1']);
    expect(tree.cleanupRoots).toEqual([]);
  });
});

describe('CgroupTree.subtree', () => {
  it('lists a cgroup and all its sub-cgroups, every one before its parent, in the memory hierarchy', async () => {
    const { tree, hierarchy } = await v1Host();
    await makeDirs(hierarchy('memory'), [...jobTree, 'jobs/slot1_2']);
    await makeDirs(hierarchy('pids'), ['jobs/slot1_1/only-in-pids']);
    await writeFile(join(hierarchy('memory'), 'jobs/slot1_1/cgroup.procs'), '42\n'); // files are not cgroups
    const found = await tree.subtree('jobs/slot1_1');
    const job = 'jobs/slot1_1/condor_var_lib_condor_execute_slot1_1@wn1';
    expect([...found].sort()).toEqual(['jobs/slot1_1', job, `${job}/sub`, `${job}/sub/a`, `${job}/sub/b`, `${job}/other`].sort());
    for (const dir of found) {
      const parent = posix.dirname(dir);
      if (found.includes(parent)) expect(found.indexOf(dir), `${dir} before ${parent}`).toBeLessThan(found.indexOf(parent));
    }
    expect(found.at(-1)).toBe('jobs/slot1_1');
  });

  it('walks another hierarchy when given its root', async () => {
    const { tree, hierarchy } = await v1Host();
    await makeDirs(hierarchy('freezer'), ['jobs/slot1_1/condor_x']);
    expect(await tree.subtree('jobs/slot1_1', hierarchy('freezer'))).toEqual(['jobs/slot1_1/condor_x', 'jobs/slot1_1']);
  });

  it('a missing cgroup is just itself (its removal then finds nothing to do)', async () => {
    const { tree } = await v1Host();
    expect(await tree.subtree('jobs/slot1_9')).toEqual(['jobs/slot1_9']);
  });

  it(`stops ${subtreeLimits.maxDepth} levels down: a job cannot make the walk go as deep as it likes`, async () => {
    const { tree, hierarchy } = await v1Host();
    const deep = ['jobs/slot1_1', ...Array.from({ length: subtreeLimits.maxDepth + 4 }, (_, i) => `d${i}`)].join('/');
    await makeDirs(hierarchy('memory'), [deep]);
    const found = await tree.subtree('jobs/slot1_1');
    expect(found).toHaveLength(subtreeLimits.maxDepth + 1);
    const depths = found.map((d) => posix.relative('jobs/slot1_1', d).split('/').filter(Boolean).length);
    expect(Math.max(...depths)).toBe(subtreeLimits.maxDepth);
  });

  it(`sees at most ${subtreeLimits.maxDirs} cgroups: a job cannot make the walk as long as it likes`, async () => {
    const { tree, hierarchy } = await v1Host();
    await makeDirs(
      hierarchy('memory'),
      Array.from({ length: subtreeLimits.maxDirs + 44 }, (_, i) => `jobs/slot1_1/condor_x/s${i}`),
    );
    const found = await tree.subtree('jobs/slot1_1');
    expect(found).toHaveLength(subtreeLimits.maxDirs);
    expect(new Set(found).size).toBe(found.length);
    // Nearest first: however many the job makes, the slot's cgroup (the starter's) and HTCondor's are always seen.
    expect(found.slice(-2)).toEqual(['jobs/slot1_1/condor_x', 'jobs/slot1_1']);
  });
});

describe('CgroupTree.procsDeep', () => {
  it("adds up cgroup.procs of the cgroup and every sub-cgroup (v1 lists only a cgroup's own members)", async () => {
    const { tree, hierarchy } = await v1Host();
    const memory = hierarchy('memory');
    const job = 'jobs/slot1_1/condor_x';
    await makeDirs(memory, [`${job}/sub/deeper`, 'jobs/slot1_2']);
    await writeFile(join(memory, 'jobs/slot1_1/cgroup.procs'), '100\n'); // the starter
    await writeFile(join(memory, job, 'cgroup.procs'), '200\n201\n'); // the job
    await writeFile(join(memory, job, 'sub/deeper/cgroup.procs'), '300\n'); // what the job moved below its cgroup
    await writeFile(join(memory, 'jobs/slot1_2/cgroup.procs'), '999\n'); // another slot
    await writeFile(join(hierarchy('pids'), 'cgroup.procs'), '1\n');
    expect((await tree.procsDeep('jobs/slot1_1')).sort((a, b) => a - b)).toEqual([100, 200, 201, 300]);
    expect(await tree.procs('jobs/slot1_1')).toEqual([100]);
  });

  it('an empty or missing cgroup has no processes', async () => {
    const { tree, hierarchy } = await v1Host();
    await makeDirs(hierarchy('memory'), ['jobs/slot1_1/condor_x']);
    await writeFile(join(hierarchy('memory'), 'jobs/slot1_1/condor_x/cgroup.procs'), '');
    expect(await tree.procsDeep('jobs/slot1_1')).toEqual([]);
    expect(await tree.procsDeep('jobs/slot1_7')).toEqual([]);
  });
});

describe('CgroupTree.removeDeep', () => {
  it("removes the slot's cgroup with HTCondor's nested ones in every hierarchy, freezer and devices too", async () => {
    const { tree, hierarchy } = await v1Host(['blkio']);
    for (const name of ['cpu,cpuacct', 'memory', 'pids', 'freezer', 'devices', 'blkio'])
      await makeDirs(hierarchy(name), [...jobTree, 'jobs/slot1_2']);
    await tree.removeDeep('jobs/slot1_1');
    for (const name of ['cpu,cpuacct', 'memory', 'pids', 'freezer', 'devices'])
      expect(await allDirs(hierarchy(name)), name).toEqual(['jobs', 'jobs/slot1_2']);
    // Neither a job hierarchy nor one HTCondor writes into: not the agent's to clean.
    expect(await allDirs(hierarchy('blkio'))).toContain(jobTree[0]);
  });

  it('is fine with a cgroup missing in some hierarchies or everywhere', async () => {
    const { tree, hierarchy } = await v1Host();
    await makeDirs(hierarchy('memory'), ['jobs/slot1_1/condor_x']); // HTCondor never made the freezer one, say
    await tree.removeDeep('jobs/slot1_1');
    expect(await allDirs(hierarchy('memory'))).toEqual(['jobs']);
    await expect(tree.removeDeep('jobs/slot1_1')).resolves.toBeUndefined();
  });

  it('throws while a cgroup cannot go yet, and removes it on a later try', async () => {
    const { tree, hierarchy } = await v1Host();
    await makeDirs(hierarchy('memory'), ['jobs/slot1_1/condor_x']);
    // A file keeps the plain directory from going, as a process keeps a cgroup (EBUSY there, ENOTEMPTY here).
    await writeFile(join(hierarchy('memory'), 'jobs/slot1_1/condor_x/still-here'), '');
    await expect(tree.removeDeep('jobs/slot1_1')).rejects.toMatchObject({ code: 'ENOTEMPTY' });
    expect(await allDirs(hierarchy('memory'))).toContain('jobs/slot1_1/condor_x');
    await rm(join(hierarchy('memory'), 'jobs/slot1_1/condor_x/still-here'));
    await tree.removeDeep('jobs/slot1_1');
    expect(await allDirs(hierarchy('memory'))).toEqual(['jobs']);
  });

  it('goes on past a cgroup that cannot go: its siblings and everything in other hierarchies are removed', async () => {
    const { tree, hierarchy } = await v1Host();
    for (const name of ['memory', 'pids']) await makeDirs(hierarchy(name), jobTree);
    await writeFile(join(hierarchy('memory'), `${jobTree[0]}/still-here`), '');
    await expect(tree.removeDeep('jobs/slot1_1')).rejects.toMatchObject({ code: 'ENOTEMPTY' });
    expect(await allDirs(hierarchy('memory'))).not.toContain(jobTree[1]);
    expect(await allDirs(hierarchy('memory'))).not.toContain(jobTree[2]);
    expect(await allDirs(hierarchy('pids'))).toEqual(['jobs']);
  });

  it(`removes a chain deeper than the walk's ${subtreeLimits.maxDepth} levels, and a wide tree over later tries`, async () => {
    const { tree, hierarchy } = await v1Host();
    const chain = ['jobs/slot1_1', ...Array.from({ length: subtreeLimits.maxDepth + 10 }, (_, i) => `d${i}`)].join('/');
    const wide = Array.from({ length: subtreeLimits.maxDirs + 50 }, (_, i) => `jobs/slot1_1/w${i}`);
    await makeDirs(hierarchy('memory'), [chain, ...wide]);
    let tries = 0;
    while (
      (await tree.removeDeep('jobs/slot1_1').then(
        () => false,
        () => true,
      )) &&
      tries < 5
    )
      tries += 1;
    expect(tries).toBeGreaterThan(0); // more than one call's budget
    expect(await allDirs(hierarchy('memory'))).toEqual(['jobs']);
  });
});
