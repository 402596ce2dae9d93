import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/** At most this many /proc entries are read in one scan (pid_max is 4M on 64-bit kernels; a container has far fewer). */
const maxProcEntries = 65_536;

/** The memory controller's cgroup path of a process, as /proc/<pid>/cgroup names it (v1 "N:memory:/p", v2 "0::/p"). */
export function memoryCgroupPath(procCgroup: string): string | undefined {
  const lines = procCgroup.split('\n');
  const v1 = lines.find((line) => /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:/.test(line));
  const line = v1 ?? lines.find((line) => line.startsWith('0::'));
  return line?.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
}

/**
 * Processes whose memory cgroup is `path` or below it, found from /proc rather than from the cgroup tree: a job can
 * nest sub-cgroups deeper than a bounded walk of the tree reaches, but every process names its own cgroup.
 */
export async function processesUnder(path: string): Promise<number[]> {
  const found: number[] = [];
  const entries = (await readdir('/proc').catch(() => [])).filter((e) => /^\d+$/.test(e)).slice(0, maxProcEntries);
  for (const entry of entries) {
    const text = await readFile(`/proc/${entry}/cgroup`, 'utf8').catch(() => '');
    if (isUnder(memoryCgroupPath(text), path)) found.push(Number(entry));
  }
  return found;
}

const isUnder = (own: string | undefined, path: string): boolean => own !== undefined && (own === path || own.startsWith(`${path}/`));

/** Whether this process's memory cgroup is `path` or below it now (false once it is gone). */
export async function processIsUnder(pid: number, path: string): Promise<boolean> {
  return isUnder(memoryCgroupPath(await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '')), path);
}

/**
 * A process's start time (clock ticks since boot, field 22 of /proc/<pid>/stat): with its PID, what names one process
 * for its whole life, where a PID alone can be handed to another process once the first is gone.
 */
export async function processStartTime(pid: number): Promise<string | undefined> {
  // Read synchronously: the kernel answers /proc/<pid>/stat from the task itself, without the process's memory lock
  // (unlike cmdline or maps), so it cannot hang; asked for every running starter every poll, a read through the
  // thread pool cost more than the answer.
  let stat: string | undefined;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    stat = undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces or parentheses: count from the last ')'.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields?.[19];
}
