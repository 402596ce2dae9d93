import type { Stats } from 'node:fs';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseMountInfo, type Mount } from '../util/mountinfo.ts';
import { agentChecks } from './state.ts';

/** More checks than this in the directory: the first ones by name run, the rest are named in an event. */
export const maxChecks = 32;

export interface CheckEntry {
  name: string;
  path: string;
  /** Why it is not run and counts as failing: someone other than root could change what would run as root. */
  refused?: string | undefined;
}

export interface CheckListing {
  /** What runs this round, in name order. */
  checks: CheckEntry[];
  /** Entries that are no check: directories, other non-regular files, files without an execute bit, dangling links. */
  skipped: { name: string; why: string }[];
  /** Checks beyond the first `maxChecks`. */
  ignored: string[];
}

/**
 * The checks in `dir`: every executable regular file (through links: a Kubernetes ConfigMap's keys are links into
 * its ..data directory), in name order, hidden names left out.
 */
export async function listChecks(dir: string, { max = maxChecks, mountinfo = '/proc/self/mountinfo' } = {}): Promise<CheckListing> {
  const names = (await readdir(dir)).filter((name) => !name.startsWith('.')).sort();
  const listing: CheckListing = { checks: [], skipped: [], ignored: [] };
  let mounts: Mount[] | undefined;
  const mountTable = async (): Promise<Mount[]> => (mounts ??= parseMountInfo(await readFile(mountinfo, 'utf8').catch(() => '')));
  for (const name of names) {
    const path = join(dir, name);
    const [link, target] = await Promise.all([lstat(path).catch(() => undefined), stat(path).catch(() => undefined)]);
    if (!link || !target || !target.isFile() || (target.mode & 0o111) === 0) {
      listing.skipped.push({ name, why: notACheck(link, target) });
      continue;
    }
    if ((agentChecks as readonly string[]).includes(name)) {
      listing.skipped.push({ name, why: "the name of the agent's own check" });
      continue;
    }
    if (listing.checks.length >= max) {
      listing.ignored.push(name);
      continue;
    }
    // A link's own owner counts too: whoever made the link chose what runs.
    const problem = (link.isSymbolicLink() ? changeableByOthers({ uid: link.uid, mode: 0 }) : undefined) ?? changeableByOthers(target);
    const real = problem ? await realpath(path).catch(() => path) : path;
    const refused = problem && !readOnlyAt(real, await mountTable()) ? `not run: ${problem}` : undefined;
    listing.checks.push({ name, path, ...(refused ? { refused } : {}) });
  }
  return listing;
}

function notACheck(link: Stats | undefined, target: Stats | undefined): string {
  if (!link) return 'gone';
  if (!target) return 'a dangling link';
  if (target.isDirectory()) return 'a directory';
  if (!target.isFile()) return 'not a regular file';
  return 'not executable';
}

/** The agent itself: root in the image, the test runner's user in unit tests. */
const trustedOwners = (): number[] => [0, process.getuid?.() ?? 0];

/**
 * Why someone other than root could change a file or directory (owned by another user, or writable by group or
 * others), or undefined. See readOnlyAt: on a read-only mount nobody in the container can.
 */
export function changeableByOthers(info: { uid: number; mode: number }): string | undefined {
  if (!trustedOwners().includes(info.uid)) return `owned by uid ${info.uid}`;
  if ((info.mode & 0o022) !== 0) return `writable by group or others (mode 0${(info.mode & 0o7777).toString(8)})`;
  return undefined;
}

/** Whether `path` is on a read-only mount (Kubernetes mounts ConfigMaps so, whatever the modes inside say). */
export function readOnlyAt(path: string, mounts: readonly Mount[]): boolean {
  let best: Mount | undefined;
  // The last of several mounts on one point is the one in effect (mountinfo lists them in mount order).
  for (const mount of mounts)
    if (within(path, mount.mountPoint) && (!best || mount.mountPoint.length >= best.mountPoint.length)) best = mount;
  return best !== undefined && (best.options.includes('ro') || best.superOptions.includes('ro'));
}

const within = (path: string, dir: string): boolean => dir === '/' || path === dir || path.startsWith(`${dir}/`);
