import { readFile, readdir, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { CgroupTree } from './tree.ts';

export const agentLeaf = 'agent';
export const jobsParent = 'jobs';

export interface Delegation {
  /** Processes moved from the container's cgroup into the agent leaf. */
  moved: number;
  /** Leftover job cgroups from an earlier run in this container, removed. */
  removedLeftovers: string[];
}

async function pidsIn(dir: string): Promise<number[]> {
  const text = await readFile(posix.join(dir, 'cgroup.procs'), 'utf8');
  return text.split('\n').filter(Boolean).map(Number);
}

/**
 * Splits the container's cgroup into a leaf for the agent, tini and HTCondor's daemons, and a `jobs` subtree that
 * holds one cgroup per running job. On v2 the processes must leave the container's cgroup before it may enable
 * controllers for children ("no internal processes": the write to cgroup.subtree_control fails with EBUSY); on v1 the move keeps the two
 * layouts alike. `jobsMemoryBytes` caps all jobs together, so they cannot take the agent's and HTCondor's memory.
 */
export async function delegate(tree: CgroupTree, jobsMemoryBytes: number | undefined): Promise<Delegation> {
  await tree.create(agentLeaf);
  await tree.create(jobsParent);
  let moved = 0;
  for (const root of tree.hierarchies) {
    for (const pid of await pidsIn(root)) {
      try {
        await writeFile(posix.join(root, agentLeaf, 'cgroup.procs'), String(pid));
        moved += 1;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // gone meanwhile
      }
    }
  }
  if (tree.version === 2) {
    const root = tree.hierarchies[0];
    if (root) {
      // io too where the container has it: HTCondor's own v2 cgroup code enables it for the job's cgroup. One write
      // enables all or none, so without io the three are written alone.
      const enable = '+cpu +memory +pids';
      for (const dir of [root, posix.join(root, jobsParent)]) {
        const file = posix.join(dir, 'cgroup.subtree_control');
        await writeFile(file, `${enable} +io`).catch(() => writeFile(file, enable));
      }
    }
  }
  if (jobsMemoryBytes !== undefined) {
    await tree.write('memory', jobsParent, tree.version === 1 ? 'memory.limit_in_bytes' : 'memory.max', String(jobsMemoryBytes));
  }
  return { moved, removedLeftovers: await removeLeftovers(tree) };
}

/** Empty job cgroups left by an earlier agent in this container (a restarted container keeps its cgroup on some runtimes). */
export async function removeLeftovers(tree: CgroupTree): Promise<string[]> {
  const removed: string[] = [];
  const names = new Set<string>();
  for (const root of tree.hierarchies) {
    for (const entry of await readdir(posix.join(root, jobsParent), { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) names.add(entry.name);
    }
  }
  for (const name of [...names].sort()) {
    const relative = posix.join(jobsParent, name);
    if ((await tree.procsDeep(relative)).length > 0) continue; // HTCondor's nested cgroups count: v2's slot cgroup holds none itself
    const gone = await tree.removeDeep(relative).then(
      () => true,
      () => false,
    );
    if (gone) removed.push(name);
  }
  return removed;
}
