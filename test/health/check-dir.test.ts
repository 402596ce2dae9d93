import { chmod, chown, lchown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listChecks } from '../../agent/health/check-dir.ts';

let dir: string;
const asRoot = process.getuid?.() === 0;

async function file(name: string, mode: number): Promise<void> {
  await writeFile(join(dir, name), '#!/bin/sh\nexit 0\n');
  await chmod(join(dir, name), mode);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wn-health-dir-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('listChecks', () => {
  it('runs executable regular files in name order, links followed; skips hidden names, directories, non-executables, dangling links', async () => {
    await file('20-scratch', 0o755);
    await file('10-disk', 0o700);
    await file('.hidden', 0o755);
    await file('README', 0o644);
    await mkdir(join(dir, '30-subdir'));
    await chmod(join(dir, '30-subdir'), 0o755);
    // A Kubernetes ConfigMap: every key a link into ..data.
    await mkdir(join(dir, '..data'));
    await writeFile(join(dir, '..data', 'software'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    await symlink('..data/software', join(dir, '15-software'));
    await symlink('nowhere', join(dir, '40-dangling'));
    const listing = await listChecks(dir);
    expect(listing.checks).toEqual([
      { name: '10-disk', path: join(dir, '10-disk') },
      { name: '15-software', path: join(dir, '15-software') },
      { name: '20-scratch', path: join(dir, '20-scratch') },
    ]);
    expect(listing.skipped).toEqual([
      { name: '30-subdir', why: 'a directory' },
      { name: '40-dangling', why: 'a dangling link' },
      { name: 'README', why: 'not executable' },
    ]);
    expect(listing.ignored).toEqual([]);
  });

  it('runs the first checks by name up to the limit and names the rest', async () => {
    for (const name of ['d', 'a', 'c', 'b']) await file(name, 0o755);
    const listing = await listChecks(dir, { max: 2 });
    expect(listing.checks.map((c) => c.name)).toEqual(['a', 'b']);
    expect(listing.ignored).toEqual(['c', 'd']);
  });

  it('refuses (as a failing check) a file others could change, except on a read-only mount', async () => {
    await file('open', 0o775);
    const listing = await listChecks(dir);
    expect(listing.checks).toEqual([
      { name: 'open', path: join(dir, 'open'), refused: 'not run: writable by group or others (mode 0775)' },
    ]);
    const mountinfo = join(dir, 'mountinfo');
    await writeFile(mountinfo, `1 0 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n2 1 0:5 / ${dir} ro,relatime - tmpfs tmpfs ro\n`);
    expect((await listChecks(dir, { mountinfo })).checks).toEqual([{ name: 'open', path: join(dir, 'open') }]);
  });

  it.skipIf(!asRoot)("refuses a file, or a link, owned by another user (a job's account)", async () => {
    await file('theirs', 0o755);
    await chown(join(dir, 'theirs'), 6001, 6001);
    await file('target', 0o755);
    await symlink('target', join(dir, 'via-link'));
    await lchown(join(dir, 'via-link'), 6002, 6002);
    const refused = Object.fromEntries((await listChecks(dir)).checks.map((c) => [c.name, c.refused]));
    expect(refused).toEqual({ target: undefined, theirs: 'not run: owned by uid 6001', 'via-link': 'not run: owned by uid 6002' });
  });
});
