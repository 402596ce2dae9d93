import { access, constants, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { parseMountInfo, parseProcCgroup, type Mount } from '../util/mountinfo.ts';

export type CgroupVersion = 1 | 2;

export interface CgroupDir {
  version: CgroupVersion;
  /** Our own cgroup, as a path in this mount namespace. */
  dir: string;
  /** Where that hierarchy is mounted; nothing above it is visible from here. */
  mountPoint: string;
}

export interface CgroupLayout {
  /** "v1", "v2", or "hybrid" (v1 controllers plus a v2 tree). */
  mode: 'v1' | 'v2' | 'hybrid' | 'none';
  /** Controller name → our cgroup for it. For v2, every enabled controller maps to the one unified directory. */
  controllers: Map<string, CgroupDir>;
  /** The v2 directory when a cgroup2 tree is mounted and we are in it. */
  unified?: CgroupDir;
}

/**
 * Maps a cgroup path from /proc/self/cgroup to a directory through the mount's root (mountinfo field 4). Without a
 * cgroup namespace the container sees its host path (e.g. /wntest/wn1) while the mounted cgroupfs is rooted at that
 * very cgroup, so concatenating mount point and path would name a directory that does not exist.
 */
export function cgroupDir(mount: Mount, path: string): string {
  const relative = posix.relative(mount.root, path);
  if (relative.startsWith('..')) return mount.mountPoint; // outside what is mounted: the mount's root is the closest we can see
  return posix.join(mount.mountPoint, relative);
}

/** Finds our cgroups from the text of /proc/self/mountinfo and /proc/self/cgroup, and the controllers of a v2 tree. */
export function discoverFromText(mountinfo: string, procCgroup: string, v2Controllers: (dir: string) => string[] = () => []): CgroupLayout {
  const mounts = parseMountInfo(mountinfo);
  const memberships = parseProcCgroup(procCgroup);
  const controllers = new Map<string, CgroupDir>();
  let unified: CgroupDir | undefined;
  let v1 = false;

  for (const member of memberships) {
    if (member.hierarchy === 0 && member.controllers.length === 0) {
      const mount = mounts.find((m) => m.fsType === 'cgroup2');
      if (mount) unified = { version: 2, dir: cgroupDir(mount, member.path), mountPoint: mount.mountPoint };
      continue;
    }
    const mount = mounts.find((m) => m.fsType === 'cgroup' && member.controllers.every((c) => m.superOptions.includes(c)));
    if (!mount) continue;
    v1 = true;
    for (const controller of member.controllers) {
      if (controller.startsWith('name=')) continue;
      controllers.set(controller, { version: 1, dir: cgroupDir(mount, member.path), mountPoint: mount.mountPoint });
    }
  }
  if (unified) {
    for (const controller of v2Controllers(unified.dir)) if (!controllers.has(controller)) controllers.set(controller, unified);
  }
  const mode = v1 && unified ? 'hybrid' : v1 ? 'v1' : unified ? 'v2' : 'none';
  return unified ? { mode, controllers, unified } : { mode, controllers };
}

export async function discoverCgroups(proc = '/proc/self'): Promise<CgroupLayout> {
  const [mountinfo, procCgroup] = await Promise.all([
    readFile(`${proc}/mountinfo`, 'utf8'),
    readFile(`${proc}/cgroup`, 'utf8').catch(() => ''),
  ]);
  const layout = discoverFromText(mountinfo, procCgroup);
  if (layout.unified) {
    const text = await readFile(posix.join(layout.unified.dir, 'cgroup.controllers'), 'utf8').catch(() => '');
    for (const controller of text.split(/\s+/).filter(Boolean))
      if (!layout.controllers.has(controller)) layout.controllers.set(controller, layout.unified);
  }
  return layout;
}

export async function isWritable(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
