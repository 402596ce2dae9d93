import { execFile } from 'node:child_process';
import { constants, openSync, readSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { answerRootFifo } from '../../agent/util/fifo-server.ts';

const run = promisify(execFile);

async function fifo(): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'wn-fifo-'));
  const path = join(dir, 'reply.1');
  await run('mkfifo', ['-m', '600', path]);
  return { dir, path };
}

/** Reads what was written into a FIFO whose reader (held read-write, as the wrappers do) was opened before. */
function drain(fd: number): string {
  const buffer = Buffer.alloc(256);
  const n = readSync(fd, buffer);
  return buffer.subarray(0, n).toString();
}

describe('answerRootFifo (real FIFOs)', () => {
  it('writes the answer to a waiting reader and removes the FIFO first', async () => {
    const { path } = await fifo();
    const reader = openSync(path, constants.O_RDWR);
    expect(await answerRootFifo(path, 'ok jobs/slot1_1\n')).toBeUndefined();
    expect(drain(reader)).toBe('ok jobs/slot1_1\n');
    closeSync(reader);
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });

  it('waits for a reader that comes later (the helper has not opened its FIFO yet)', async () => {
    const { path } = await fifo();
    let reader: number | undefined;
    const later = setTimeout(() => (reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)), 50);
    expect(await answerRootFifo(path, 'deny no\n', 2000)).toBeUndefined();
    clearTimeout(later);
    expect(drain(reader as number)).toBe('deny no\n');
    closeSync(reader as number);
  });

  it("gives up after its wait without a reader, and never writes a file or through a link in the FIFO's place", async () => {
    const { dir, path } = await fifo();
    expect(await answerRootFifo(path, 'ok\n', 100)).toBe('ENXIO');
    const plain = join(dir, 'plain');
    await writeFile(plain, 'before');
    expect(await answerRootFifo(plain, 'ok\n', 100)).toBe('ENOTFIFO');
    expect(await readFile(plain, 'utf8')).toBe('before');
    const link = join(dir, 'link');
    await symlink(plain, link);
    expect(await answerRootFifo(link, 'ok\n', 100)).toBe('ELOOP');
    expect(await readFile(plain, 'utf8')).toBe('before');
  });
});
