import { mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scratchUsage } from '../../agent/health/scratch-usage.ts';

// A job's scratch directory, made as a hostile job would: links out of it, sparse files, many entries.
let root: string;
const MiB = 1048576;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'wn-scratch-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('scratchUsage', () => {
  it('counts what files hold on disk, in every directory below', async () => {
    const scratch = join(root, 'dir_100');
    await mkdir(join(scratch, 'a', 'b'), { recursive: true });
    await writeFile(join(scratch, 'one'), Buffer.alloc(2 * MiB, 1));
    await writeFile(join(scratch, 'a', 'b', 'two'), Buffer.alloc(3 * MiB, 1));
    const usage = await scratchUsage(scratch);
    expect(usage.complete).toBe(true);
    expect(usage.entries).toBe(4);
    expect(usage.bytes).toBeGreaterThanOrEqual(5 * MiB);
    expect(usage.bytes).toBeLessThan(5 * MiB + 64 * 1024);
  });

  it('a sparse file counts the blocks it holds, not its length; links are not followed', async () => {
    const scratch = join(root, 'dir_101');
    await mkdir(scratch);
    const sparse = await open(join(scratch, 'sparse'), 'w');
    await sparse.truncate(1024 * MiB);
    await sparse.close();
    await mkdir(join(root, 'elsewhere'));
    await writeFile(join(root, 'elsewhere', 'big'), Buffer.alloc(4 * MiB, 1));
    await symlink(join(root, 'elsewhere'), join(scratch, 'to-dir'));
    await symlink(join(root, 'elsewhere', 'big'), join(scratch, 'to-file'));
    const usage = await scratchUsage(scratch);
    expect(usage.bytes).toBeLessThan(64 * 1024);
    expect(usage.entries).toBe(3);
  });

  it('stops at its bound of entries, saying the count is a floor', async () => {
    const scratch = join(root, 'dir_102');
    await mkdir(scratch);
    await Promise.all(Array.from({ length: 300 }, (_, i) => writeFile(join(scratch, `f${i}`), 'x')));
    const usage = await scratchUsage(scratch, { maxEntries: 100 });
    expect(usage).toMatchObject({ entries: 100, complete: false });
  });

  it('a missing directory, or a link where the directory should be, holds nothing', async () => {
    expect(await scratchUsage(join(root, 'gone'))).toEqual({ bytes: 0, entries: 0, complete: true });
    await mkdir(join(root, 'real'));
    await writeFile(join(root, 'real', 'big'), Buffer.alloc(MiB, 1));
    await symlink(join(root, 'real'), join(root, 'dir_103'));
    expect(await scratchUsage(join(root, 'dir_103'))).toEqual({ bytes: 0, entries: 0, complete: true });
  });
});
