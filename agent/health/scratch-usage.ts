import { opendir, lstat } from 'node:fs/promises';
import { join } from 'node:path';

export interface ScratchUsage {
  /** Bytes allocated (st_blocks × 512: a sparse file counts what it holds, not its length). */
  bytes: number;
  entries: number;
  /** False when the walk stopped at its bound: the job holds at least `bytes`. */
  complete: boolean;
}

/**
 * What a job's scratch directory holds on disk. The job owns everything under it and may have made it to cost: the
 * walk never follows a link (lstat, and opendir of what lstat called a directory; a directory swapped for a link in
 * between fails with ENOTDIR, it does not lead elsewhere), stops after `maxEntries` entries, and skips what vanishes
 * or cannot be read while it walks.
 */
export async function scratchUsage(dir: string, { maxEntries = 100_000 } = {}): Promise<ScratchUsage> {
  const usage: ScratchUsage = { bytes: 0, entries: 0, complete: true };
  const root = await lstat(dir).catch(() => undefined);
  if (!root?.isDirectory()) return usage;
  usage.bytes += root.blocks * 512;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    const handle = await opendir(current, { bufferSize: 256 }).catch(() => undefined);
    if (!handle) continue;
    try {
      for await (const entry of handle) {
        if (usage.entries >= maxEntries) {
          usage.complete = false;
          return usage;
        }
        usage.entries += 1;
        const path = join(current, entry.name);
        const info = await lstat(path).catch(() => undefined);
        if (!info) continue;
        usage.bytes += info.blocks * 512;
        if (info.isDirectory()) pending.push(path);
      }
    } catch {
      // The directory went away under the walk: what was counted stands.
    }
  }
  return usage;
}
