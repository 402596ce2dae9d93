import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { CgroupDir, CgroupLayout } from './discover.ts';

/** The controllers per-job isolation uses. cpuacct is v1's CPU-time accounting (a separate hierarchy on some hosts). */
export const jobControllers = ['cpu', 'cpuacct', 'memory', 'pids'] as const;
export type JobController = (typeof jobControllers)[number];

/**
 * v1 hierarchies HTCondor's own cgroup code also writes a job's cgroup into (it freezes the job before a kill and
 * hides devices): the agent does not set limits there, but removes what is left of a job's cgroups there too.
 */
const cleanupControllers = ['freezer', 'devices'] as const;

/**
 * Bounds for one walk of a job's cgroup subtree: HTCondor hands its job cgroup to the job's user, who may create
 * sub-cgroups in it, so the walk is untrusted input (a job could make thousands, or a chain thousands deep). The
 * walk is breadth-first, so the slot's cgroup and HTCondor's are always in it; what lies beyond the bounds is found
 * by its processes' /proc/<pid>/cgroup instead (JobCgroups), and removed by later walks as the nearer part goes.
 */
export const subtreeLimits = { maxDirs: 1024, maxDepth: 64 } as const;

/**
 * The container's own cgroup, in every hierarchy that holds a job controller (several on v1, one on v2), and the
 * operations the agent needs on paths below it. All writes go straight to the cgroup filesystem.
 */
export class CgroupTree {
  /** Controller → the container's own cgroup directory for it. */
  readonly roots: Map<JobController, CgroupDir>;

  /** Further v1 hierarchies to clean a job's cgroups out of (freezer, devices), when mounted. */
  readonly cleanupRoots: string[];
  /** The freezer hierarchy's directory for this container, where mounted (v1). */
  readonly freezerRoot: string | undefined;

  constructor(layout: CgroupLayout) {
    this.roots = new Map();
    for (const controller of jobControllers) {
      const dir = layout.controllers.get(controller);
      if (dir) this.roots.set(controller, dir);
    }
    const own = new Set(this.hierarchies);
    this.cleanupRoots = cleanupControllers
      .map((controller) => layout.controllers.get(controller))
      .filter((dir): dir is CgroupDir => dir !== undefined && dir.version === 1 && !own.has(dir.dir))
      .map((dir) => dir.dir);
    const freezer = layout.controllers.get('freezer');
    this.freezerRoot = freezer?.version === 1 && this.cleanupRoots.includes(freezer.dir) ? freezer.dir : undefined;
  }

  get version(): 1 | 2 {
    return this.roots.get('memory')?.version ?? this.roots.get('cpu')?.version ?? 1;
  }

  /** Distinct hierarchy directories (cpu and cpuacct may share one on v1; everything shares one on v2). */
  get hierarchies(): string[] {
    return [...new Set([...this.roots.values()].map((root) => root.dir))];
  }

  path(controller: JobController, relative: string): string | undefined {
    const root = this.roots.get(controller);
    return root ? posix.join(root.dir, relative) : undefined;
  }

  async create(relative: string): Promise<void> {
    // The hierarchies side by side: a starter waits for this on every job start.
    await Promise.all(this.hierarchies.map((dir) => mkdir(posix.join(dir, relative), { recursive: true })));
  }

  async write(controller: JobController, relative: string, file: string, value: string): Promise<void> {
    const dir = this.path(controller, relative);
    if (dir) await writeFile(posix.join(dir, file), value);
  }

  async read(controller: JobController, relative: string, file: string): Promise<string | undefined> {
    const dir = this.path(controller, relative);
    if (!dir) return undefined;
    try {
      return (await readFile(posix.join(dir, file), 'utf8')).trim();
    } catch {
      return undefined;
    }
  }

  /** Moves a process (and, on v1 with cgroup.procs, all its threads) into `relative` in every hierarchy. */
  async move(relative: string, pid: number): Promise<void> {
    await Promise.all(this.hierarchies.map((dir) => writeFile(posix.join(dir, relative, 'cgroup.procs'), String(pid))));
  }

  /**
   * A cgroup and its sub-cgroups, deepest first (the order they can be removed in), relative paths; bounded by
   * `subtreeLimits`, nearest first: the cgroup itself is always there.
   */
  async subtree(relative: string, root = this.roots.get('memory')?.dir ?? this.hierarchies[0]): Promise<string[]> {
    return (await this.walk(relative, root)).dirs;
  }

  /** subtree(), and whether it is whole: false when the walk stopped at `subtreeLimits` with directories left. */
  private async walk(relative: string, root: string | undefined): Promise<{ dirs: string[]; complete: boolean }> {
    if (!root) return { dirs: [], complete: true };
    const found: string[] = [relative];
    let level = [relative];
    let complete = true;
    for (let depth = 0; level.length > 0; depth++) {
      if (depth >= subtreeLimits.maxDepth) {
        complete = false;
        break;
      }
      const next: string[] = [];
      for (const dir of level) {
        // Synchronously: cgroupfs answers from the kernel's own tables, never blocking on a disk or a FUSE server,
        // and a walk is a few directories, where the thread pool's round trip per directory cost more than the read.
        let entries: Dirent[];
        try {
          entries = readdirSync(posix.join(root, dir), { withFileTypes: true });
        } catch {
          entries = [];
        }
        for (const entry of entries) {
          if (!entry.isDirectory()) continue;
          if (found.length >= subtreeLimits.maxDirs) {
            complete = false;
            continue;
          }
          const child = posix.join(dir, entry.name);
          found.push(child);
          next.push(child);
        }
      }
      level = next;
    }
    return { dirs: found.reverse(), complete };
  }

  /** PIDs in a cgroup and every sub-cgroup of it (v1's cgroup.procs lists only a cgroup's own members). */
  async procsDeep(relative: string): Promise<number[]> {
    return (await this.procsWalk(relative)).pids;
  }

  /**
   * procsDeep(), and whether every sub-cgroup was read: when the walk is whole, a scan of /proc for processes it
   * could have missed (deeper than the bound) finds nothing more, and is skipped.
   */
  async procsWalk(relative: string): Promise<{ pids: number[]; complete: boolean }> {
    const { dirs, complete } = await this.walk(relative, this.roots.get('memory')?.dir ?? this.hierarchies[0]);
    const pids: number[] = [];
    for (const dir of dirs) pids.push(...(await this.procs(dir)));
    return { pids, complete };
  }

  /**
   * Removes a cgroup with every sub-cgroup, in every hierarchy (the cleanup ones too), deepest first, at any depth:
   * a depth-first walk that removes each directory once its children are gone, at most `subtreeLimits.maxDirs`
   * directories per hierarchy per call. Missing ones are fine; one that cannot go (a process still in it) does not
   * stop the others. Throws if anything is left, so the caller tries again later and each try gets further.
   */
  async removeDeep(relative: string): Promise<void> {
    let left: Error | undefined;
    for (const root of [...this.hierarchies, ...this.cleanupRoots]) {
      let budget: number = subtreeLimits.maxDirs;
      const stack: { dir: string; expanded: boolean }[] = [{ dir: relative, expanded: false }];
      while (stack.length > 0) {
        const top = stack[stack.length - 1] as { dir: string; expanded: boolean };
        if (!top.expanded && budget > 0) {
          top.expanded = true;
          budget -= 1;
          const entries = await readdir(posix.join(root, top.dir), { withFileTypes: true }).catch(() => []);
          for (const entry of entries) if (entry.isDirectory()) stack.push({ dir: posix.join(top.dir, entry.name), expanded: false });
          continue;
        }
        stack.pop();
        try {
          await rmdir(posix.join(root, top.dir));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') left ??= error as Error;
        }
      }
      if (budget === 0) left ??= new Error(`more than ${subtreeLimits.maxDirs} cgroups under ${relative}: removal goes on later`);
    }
    if (left) throw left;
  }

  /** PIDs in a cgroup, as this PID namespace numbers them (the memory hierarchy, else the first one). */
  async procs(relative: string): Promise<number[]> {
    const dir = this.roots.get('memory')?.dir ?? this.hierarchies[0];
    if (!dir) return [];
    try {
      // Synchronously, like the walk: a cgroupfs read never blocks.
      const text = readFileSync(posix.join(dir, relative, 'cgroup.procs'), 'utf8');
      return text.split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }
}
