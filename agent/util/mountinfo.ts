/** /proc/self/mountinfo and /proc/self/cgroup, parsed (proc(5)). Pure functions over the files' text. */

export interface Mount {
  /** The path inside the filesystem that is mounted here (field 4): not "/" for a cgroupfs rooted at a container's cgroup. */
  root: string;
  mountPoint: string;
  options: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

// mountinfo escapes space, tab, newline and backslash as octal (\040 ...).
const unescape = (text: string): string => text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

export function parseMountInfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const [fsType = '', source = '', superOptions = ''] = right.split(' ');
    if (fields.length < 6) continue;
    mounts.push({
      root: unescape(fields[3] ?? ''),
      mountPoint: unescape(fields[4] ?? ''),
      options: (fields[5] ?? '').split(','),
      fsType,
      source: unescape(source),
      superOptions: superOptions.split(','),
    });
  }
  return mounts;
}

export interface CgroupMembership {
  /** 0 for the cgroup v2 line. */
  hierarchy: number;
  /** v1 controllers of the hierarchy (e.g. ["cpu", "cpuacct"]); empty for v2. name=systemd style entries keep "name=". */
  controllers: string[];
  path: string;
}

export function parseProcCgroup(text: string): CgroupMembership[] {
  const out: CgroupMembership[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    out.push({ hierarchy: Number(match[1]), controllers: match[2] ? (match[2] ?? '').split(',') : [], path: match[3] ?? '/' });
  }
  return out;
}
