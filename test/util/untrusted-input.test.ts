import { execFile } from 'node:child_process';
import { link, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BoundedLines } from '../../agent/util/bounded-lines.ts';
import { Limiter } from '../../agent/util/limiter.ts';
import { Tally } from '../../agent/util/tally.ts';
import { readUntrustedFile } from '../../agent/util/untrusted-file.ts';
import { delay, withDeadline } from '../../agent/util/wait.ts';

describe('BoundedLines', () => {
  it('cuts lines across chunks, drops a line longer than the limit whole and reports only its length', () => {
    const lines: string[] = [];
    const overlong: number[] = [];
    const reader = new BoundedLines(
      8,
      (l) => lines.push(l),
      (n) => overlong.push(n),
    );
    reader.push(Buffer.from('ab'));
    reader.push(Buffer.from('c\n0123456'));
    reader.push(Buffer.from('789abcdef'));
    reader.push(Buffer.from('ghij\nok\n\n'));
    expect(lines).toEqual(['abc', 'ok', '']);
    expect(overlong).toEqual([20]);
  });
});

describe('Limiter', () => {
  it('runs at most `concurrency` at once, queues at most `queueMax`, refuses the rest at once', async () => {
    const limiter = new Limiter(2, 1);
    let running = 0;
    let peak = 0;
    const task = async (): Promise<void> => {
      running += 1;
      peak = Math.max(peak, running);
      await delay(20);
      running -= 1;
    };
    const runs = [limiter.tryRun(task), limiter.tryRun(task), limiter.tryRun(task), limiter.tryRun(task)];
    expect(runs.map((r) => r !== undefined)).toEqual([true, true, true, false]);
    await Promise.all(runs);
    expect(peak).toBe(2);
    expect(limiter.active).toBe(0);
  });
});

describe('Tally', () => {
  it('reports the first at once and the rest as counts per interval', async () => {
    const reports: Record<string, number>[] = [];
    const tally = new Tally(50, (c) => reports.push(c));
    for (let i = 0; i < 1000; i += 1) tally.count(i % 2 ? 'malformed' : 'duplicate');
    expect(reports).toEqual([{ duplicate: 1 }]);
    await delay(120);
    expect(reports).toEqual([{ duplicate: 1 }, { malformed: 500, duplicate: 499 }]);
    expect(tally.total).toEqual({ duplicate: 500, malformed: 500 });
    tally.stop();
  });
});

describe('readUntrustedFile', () => {
  const opts = { maxBytes: 64, timeoutMs: 1000 };
  it('reads a small regular file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wn-untrusted-'));
    await writeFile(join(dir, 'f'), 'hello');
    expect(await readUntrustedFile(join(dir, 'f'), opts)).toBe('hello');
  });

  it('refuses a FIFO at once (no blocking), a link, a hard link, a large file and a foreign owner', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wn-untrusted-'));
    await promisify(execFile)('mkfifo', [join(dir, 'fifo')]);
    await writeFile(join(dir, 'secret'), 'root only', { mode: 0o600 });
    await symlink(join(dir, 'secret'), join(dir, 'link'));
    await link(join(dir, 'secret'), join(dir, 'hard'));
    await writeFile(join(dir, 'big'), 'x'.repeat(65));
    await writeFile(join(dir, 'mine'), 'x');
    await expect(readUntrustedFile(join(dir, 'fifo'), opts)).rejects.toMatchObject({ code: 'ENOTREG' });
    await expect(readUntrustedFile(join(dir, 'link'), opts)).rejects.toMatchObject({ code: 'ELOOP' });
    await expect(readUntrustedFile(join(dir, 'hard'), opts)).rejects.toMatchObject({ code: 'EMLINK' });
    await expect(readUntrustedFile(join(dir, 'big'), opts)).rejects.toMatchObject({ code: 'EFBIG' });
    await expect(readUntrustedFile(join(dir, 'mine'), { ...opts, owners: [12345] })).rejects.toMatchObject({ code: 'EPERM' });
    await expect(readUntrustedFile('/dev/zero', opts)).rejects.toMatchObject({ code: 'ENOTREG' });
  });
});

describe('withDeadline (the one timer race behind untrusted reads and the placement probe)', () => {
  it('gives the work when it is first, else what late() gives or throws; a late rejection of the work is not unhandled', async () => {
    expect(await withDeadline(Promise.resolve('work'), 1000, () => 'late')).toBe('work');
    expect(await withDeadline(new Promise<string>(() => undefined), 10, () => 'late')).toBe('late');
    const failsLater = new Promise<string>((_, reject) => setTimeout(() => reject(new Error('after the deadline')), 30));
    await expect(
      withDeadline(failsLater, 10, () => {
        throw new Error('too slow');
      }),
    ).rejects.toThrow('too slow');
    await delay(50); // the work's own rejection arrives now, with nobody listening
  });
});
