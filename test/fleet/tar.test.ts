import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tar } from '../../agent/fleet/tar.ts';
import { check } from '../support/exec.ts';

// The archive is read by the real GNU tar here, as the engine's extractor reads it in the fleet.
describe('tar: the ustar archive the fleet puts into a worker', () => {
  const archive = (): Buffer =>
    tar([
      { path: 'etc/wn-fleet/', type: 'dir', mode: 0o700, uid: 0, gid: 0, mtime: 1_700_000_000 },
      { path: 'etc/wn-fleet/admin-token', type: 'file', mode: 0o400, uid: 0, gid: 0, data: Buffer.from('a'.repeat(64) + '\n') },
      { path: 'etc/wn-fleet/tls.crt', type: 'file', mode: 0o444, uid: 0, gid: 0, data: Buffer.alloc(1500, 'c') },
      { path: 'etc/wn-fleet/empty', type: 'file', mode: 0o600, uid: 1234, gid: 5678 },
    ]);

  it('is whole 512-byte blocks ending in two zero blocks', () => {
    const data = archive();
    // 4 headers, 1 + 3 + 0 data blocks, 2 end blocks.
    expect(data.length).toBe(512 * (4 + 4 + 2));
    expect(data.subarray(-1024).every((b) => b === 0)).toBe(true);
  });

  it('lists with tar -tvf: types, modes, owners and sizes as written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wn-tar-'));
    await writeFile(join(dir, 'a.tar'), archive());
    const lines = (await check('tar', ['--numeric-owner', '-tvf', join(dir, 'a.tar')])).trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^drwx------ 0\/0\s+0 2023-11-1\d \d\d:\d\d etc\/wn-fleet\/$/);
    expect(lines[1]).toMatch(/^-r-------- 0\/0\s+65 .* etc\/wn-fleet\/admin-token$/);
    expect(lines[2]).toMatch(/^-r--r--r-- 0\/0\s+1500 .* etc\/wn-fleet\/tls.crt$/);
    expect(lines[3]).toMatch(/^-rw------- 1234\/5678\s+0 .* etc\/wn-fleet\/empty$/);
  });

  it('extracts with tar -xpf: the content, the modes and (as root) the owners', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wn-tar-'));
    await writeFile(join(dir, 'a.tar'), archive());
    const root = join(dir, 'root');
    await check('mkdir', [root]);
    await check('tar', ['--numeric-owner', '-xpf', join(dir, 'a.tar'), '-C', root]);
    const token = join(root, 'etc/wn-fleet/admin-token');
    expect(await readFile(token, 'utf8')).toBe('a'.repeat(64) + '\n');
    expect((await readFile(join(root, 'etc/wn-fleet/tls.crt'))).equals(Buffer.alloc(1500, 'c'))).toBe(true);
    expect((await stat(token)).mode & 0o7777).toBe(0o400);
    expect((await stat(join(root, 'etc/wn-fleet'))).mode & 0o7777).toBe(0o700);
    expect((await stat(join(root, 'etc/wn-fleet/tls.crt'))).mode & 0o7777).toBe(0o444);
    if (process.getuid?.() === 0) {
      expect(await stat(token)).toMatchObject({ uid: 0, gid: 0 });
      expect(await stat(join(root, 'etc/wn-fleet/empty'))).toMatchObject({ uid: 1234, gid: 5678 });
    }
  });

  it('refuses absolute paths, .. and names too long for a ustar header', () => {
    expect(() => tar([{ path: '/etc/x', type: 'file', mode: 0o400 }])).toThrow('only short relative ASCII paths');
    expect(() => tar([{ path: 'etc/../x', type: 'file', mode: 0o400 }])).toThrow('only short relative ASCII paths');
    expect(() => tar([{ path: 'x'.repeat(100), type: 'file', mode: 0o400 }])).toThrow('only short relative ASCII paths');
  });
});
