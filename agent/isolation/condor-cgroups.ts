import { lstat, mkdir } from 'node:fs/promises';
import { posix } from 'node:path';
import type { CgroupLayout } from '../cgroup/discover.ts';
import { parseMountInfo } from '../util/mountinfo.ts';
import { runBounded } from '../util/run.ts';

/**
 * HTCondor's own cgroup code owns a cgroup nested in the agent's per-slot one, so that what a pool user sees is what
 * a native execute point shows: a job over its memory is held (HoldReasonCode 34, "Job has gone over cgroup memory
 * limit of N megabytes. Peak usage: P megabytes. ..."), a node out of memory requeues, usage comes from the cgroup.
 * The starter wrapper gives each starter its own BASE_CGROUP (the agent's cgroup for that slot); HTCondor then makes
 * <BASE_CGROUP>/condor_<execute dir>_<slot> for the job, sets its memory limit to the slot's Memory and watches it.
 */
export type CondorCgroups = { nested: true; base: (jobCgroup: string) => string } | { nested: false; reason: string };

/** Where HTCondor 23 (ProcFamilyDirectCgroupV1) looks for each v1 hierarchy: fixed paths, one joint cpu,cpuacct. */
const cgroupRoot = '/sys/fs/cgroup';
const condorV1Dirs = ['memory', 'cpu,cpuacct', 'freezer', 'devices'] as const;

const isDirectory = (path: string): Promise<boolean> =>
  lstat(path).then(
    (s) => s.isDirectory() || s.isSymbolicLink(),
    () => false,
  );

/**
 * Makes the container's cgroup filesystem look the way HTCondor's cgroup code expects, before condor_master starts
 * (every daemon inherits this mount namespace), and says how a job cgroup of the agent maps to HTCondor's BASE_CGROUP.
 *
 * v1: HTCondor writes cpu.shares and reads cpuacct.stat in one directory, /sys/fs/cgroup/cpu,cpuacct. Where the host
 * mounts cpu and cpuacct as separate hierarchies (as these Debian hosts do), the cpuacct hierarchy is bound there:
 * HTCondor's CPU accounting works, its cpu.shares write fails harmlessly, and the job's CPU weight stays the agent's
 * (on the slot's cgroup, one level up).
 *
 * v2: HTCondor 23.9 registers a job in its cgroup from inside the job's new PID namespace with the PID the parent
 * namespace gave it, which fails (fixed in 23.10.1 and 23.0.16, HTCONDOR-2590): with USE_PID_NAMESPACES its cgroup
 * code cannot be used, and the agent keeps the job's cgroup alone.
 */
export async function prepareCondorCgroups(layout: CgroupLayout, mountinfo: string): Promise<CondorCgroups> {
  const memory = layout.controllers.get('memory');
  if (!memory) return { nested: false, reason: 'no memory cgroup controller' };
  if (memory.version === 2)
    return {
      nested: false,
      reason:
        'cgroup v2: HTCondor 23.9 cannot put a job that has its own PID namespace into a cgroup of its own (HTCONDOR-2590, fixed in 23.10.1)',
    };
  if (memory.mountPoint !== posix.join(cgroupRoot, 'memory'))
    return { nested: false, reason: `the memory hierarchy is mounted at ${memory.mountPoint}, not ${cgroupRoot}/memory` };
  const relative = posix.relative(memory.mountPoint, memory.dir);
  const joint = posix.join(cgroupRoot, 'cpu,cpuacct');
  const mounted = new Set(parseMountInfo(mountinfo).map((m) => m.mountPoint));
  // A joint hierarchy (or the symlink systemd hosts have) is used as it is; an empty directory (an earlier run's
  // mkdir whose bind failed) is bound over.
  const usable =
    mounted.has(joint) ||
    (await lstat(joint).then(
      (s) => s.isSymbolicLink(),
      () => false,
    ));
  if (!usable) {
    const cpuacct = layout.controllers.get('cpuacct');
    if (!cpuacct || cpuacct.version !== 1) return { nested: false, reason: 'no cpuacct cgroup controller' };
    if (posix.relative(cpuacct.mountPoint, cpuacct.dir) !== relative)
      return { nested: false, reason: 'the cpuacct and memory hierarchies place this container at different paths' };
    try {
      if (!(await isDirectory(joint))) await mkdir(joint);
    } catch (error) {
      return { nested: false, reason: `cannot create ${joint}: ${(error as Error).message}` };
    }
    const bound = await runBounded('mount', ['--bind', cpuacct.mountPoint, joint], { timeoutMs: 5000 });
    if (!bound.ok) return { nested: false, reason: `cannot bind ${cpuacct.mountPoint} at ${joint}: ${bound.why}` };
  }
  for (const dir of condorV1Dirs) {
    const path = posix.join(cgroupRoot, dir);
    if (dir !== 'cpu,cpuacct' && !mounted.has(path)) return { nested: false, reason: `${path} is not a mounted cgroup hierarchy` };
  }
  return { nested: true, base: (jobCgroup) => posix.join(relative, jobCgroup) };
}
