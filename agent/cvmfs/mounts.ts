import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { parseMountInfo } from '../cgroup/mountinfo.ts';

/** Runs a command with a hard timeout; a hung FUSE mount must not hang the agent. */
export function runBounded(file: string, args: readonly string[], timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim().slice(0, 500);
      if (!error) return resolve({ ok: true, output });
      resolve({ ok: false, output: error.killed ? `timed out after ${timeoutMs} ms` : output || error.message });
    });
  });
}

/** Whether something is mounted exactly at `dir` (from /proc/self/mountinfo), and what. */
export async function mountAt(dir: string, mountinfo?: string): Promise<{ fsType: string; source: string } | undefined> {
  const mounts = parseMountInfo(mountinfo ?? (await readFile('/proc/self/mountinfo', 'utf8')));
  const found = mounts.filter((m) => m.mountPoint === dir).at(-1); // the last one mounted there is the visible one
  return found ? { fsType: found.fsType, source: found.source } : undefined;
}

/** `mount -t cvmfs <repo> <dir>`: the real client's mount.cvmfs helper, or the test image's stand-in. */
export function mountRepo(repo: string, dir: string, timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  return runBounded('mount', ['-t', 'cvmfs', repo, dir], timeoutMs);
}

/** Unmounts; a busy or dead FUSE mount is detached lazily so that nothing stale stays visible. */
export async function unmount(dir: string, timeoutMs: number): Promise<{ ok: boolean; output: string; lazy: boolean }> {
  const plain = await runBounded('umount', [dir], timeoutMs);
  if (plain.ok) return { ...plain, lazy: false };
  const lazy = await runBounded('umount', ['-l', dir], timeoutMs);
  return { ok: lazy.ok, output: lazy.ok ? plain.output : lazy.output, lazy: true };
}
