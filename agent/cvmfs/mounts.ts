import { readFile } from 'node:fs/promises';
import { parseMountInfo } from '../util/mountinfo.ts';
import { runBounded } from '../util/run.ts';

/** A command with a hard timeout (a hung FUSE mount must not hang the agent): ok, and up to 500 characters of output. */
export async function runWithin(file: string, args: readonly string[], timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  const result = await runBounded(file, args, { timeoutMs });
  const output = `${result.stdout}${result.stderr}`.trim().slice(0, 500);
  return { ok: result.ok, output: result.ok || !result.timedOut ? output || result.why : result.why };
}

/** Whether something is mounted exactly at `dir` (from /proc/self/mountinfo), and what. */
export async function mountAt(dir: string, mountinfo?: string): Promise<{ fsType: string; source: string } | undefined> {
  const mounts = parseMountInfo(mountinfo ?? (await readFile('/proc/self/mountinfo', 'utf8')));
  const found = mounts.filter((m) => m.mountPoint === dir).at(-1); // the last one mounted there is the visible one
  return found ? { fsType: found.fsType, source: found.source } : undefined;
}

/** `mount -t cvmfs <repo> <dir>`: the real client's mount.cvmfs helper, or the test image's stand-in. */
export function mountRepo(repo: string, dir: string, timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  return runWithin('mount', ['-t', 'cvmfs', repo, dir], timeoutMs);
}

/** Unmounts; a busy or dead FUSE mount is detached lazily so that nothing stale stays visible. */
export async function unmount(dir: string, timeoutMs: number): Promise<{ ok: boolean; output: string; lazy: boolean }> {
  const plain = await runWithin('umount', [dir], timeoutMs);
  if (plain.ok) return { ...plain, lazy: false };
  const lazy = await runWithin('umount', ['-l', dir], timeoutMs);
  return { ok: lazy.ok, output: lazy.ok ? plain.output : lazy.output, lazy: true };
}
