import { lstat, mkdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { CgroupDir, CgroupLayout } from '../cgroup/discover.ts';
import { parseMountInfo } from '../util/mountinfo.ts';
import { runBounded } from '../util/run.ts';
import { isPlainCgroupPath } from './placement-server.ts';

/**
 * HTCondor's own cgroup code owns a cgroup nested in the agent's per-slot one, so that what a pool user sees is what
 * a native execute point shows: a job over its memory is held (HoldReasonCode 34, "Job has gone over cgroup memory
 * limit of N megabytes. Peak usage: P megabytes. ..."), a node out of memory requeues, usage comes from the cgroup.
 * The starter wrapper gives each starter its own BASE_CGROUP (the agent's cgroup for that slot); HTCondor then makes
 * <BASE_CGROUP>/condor_<execute dir>_<slot> for the job, sets its memory limit to the slot's Memory and watches it.
 */
export type CondorCgroups =
  | {
      nested: true;
      /** BASE_CGROUP for the starter of the agent's job cgroup `jobCgroup`. */
      base: (jobCgroup: string) => string;
      /**
       * v2: the starter goes into this leaf of the slot's cgroup, not the slot's cgroup itself. HTCondor puts its job
       * cgroup under the parent of the starter's (<slot>/<BASE_CGROUP>/...), and a v2 cgroup with a process in it
       * cannot hand controllers to children ("no internal processes").
       */
      starterLeaf?: string;
    }
  | { nested: false; reason: string };

/** The controllers HTCondor 23's v2 code enables, in one write (if one is missing, none is enabled). */
export const condorV2Controllers = ['cpu', 'io', 'memory', 'pids'] as const;

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
 * namespace gave it, which fails and the job does not start (fixed in 23.10.1 and 23.0.16, HTCONDOR-2590): with
 * USE_PID_NAMESPACES its cgroup code cannot be used, and the agent keeps the job's cgroup alone. Without them
 * (--job-pid-namespaces false) it nests, as on v1.
 */
export async function prepareCondorCgroups(layout: CgroupLayout, mountinfo: string, options: V2Options): Promise<CondorCgroups> {
  const memory = layout.controllers.get('memory');
  if (!memory) return { nested: false, reason: 'no memory cgroup controller' };
  if (memory.version === 2) return prepareV2(memory, options);
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
  // The wrapper refuses a BASE_CGROUP it could not pass on safely (placement-server.ts): checked once here instead.
  if (relative !== '' && !isPlainCgroupPath(relative))
    return { nested: false, reason: `this container's cgroup path ${relative} has characters HTCondor's BASE_CGROUP cannot carry here` };
  return { nested: true, base: (jobCgroup) => posix.join(relative, jobCgroup) };
}

interface V2Options {
  /** HTCondor gives jobs their own PID namespaces (USE_PID_NAMESPACES). */
  pidNamespaces: boolean;
  /** This process's /proc/self/cgroup, after it moved into the agent's leaf. */
  selfCgroup: string;
}

async function prepareV2(memory: CgroupDir, { pidNamespaces, selfCgroup }: V2Options): Promise<CondorCgroups> {
  if (pidNamespaces)
    return {
      nested: false,
      reason:
        'cgroup v2 with PID namespaces: HTCondor 23.9 cannot put a job that has its own PID namespace into a cgroup of its own (HTCONDOR-2590, fixed in 23.10.1); --job-pid-namespaces false lets it',
    };
  if (memory.mountPoint !== cgroupRoot)
    return { nested: false, reason: `the cgroup v2 tree is mounted at ${memory.mountPoint}, not ${cgroupRoot}` };
  // HTCondor finds its place from /proc/self/cgroup under /sys/fs/cgroup: that must name the directory the agent uses.
  const self = /^0::(\/.*)$/m.exec(selfCgroup)?.[1];
  if (self === undefined || posix.dirname(posix.join(cgroupRoot, self)) !== memory.dir)
    return { nested: false, reason: `/proc/self/cgroup (${self ?? 'no v2 line'}) does not name ${memory.dir} under ${cgroupRoot}` };
  // What the agent enabled for the jobs subtree (delegate): each slot's cgroup passes these on to HTCondor's.
  const enabled = (await readFile(posix.join(memory.dir, 'jobs', 'cgroup.subtree_control'), 'utf8').catch(() => '')).split(/\s+/);
  const missing = condorV2Controllers.filter((c) => !enabled.includes(c));
  if (missing.length > 0)
    return { nested: false, reason: `the jobs cgroup does not have the ${missing.join(', ')} controller(s) HTCondor enables for a job` };
  return { nested: true, base: () => 'htcondor', starterLeaf: 'starter' };
}
