import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hideSecretSources, type SecretSource } from '../../agent/condor/hide-secrets.ts';

// Decision logic on real files with a stand-in for mount(8) (the real covering runs in the worker: see
// test/condor/hostile-jobs.int.test.ts). The stand-in does to the files what the mount would show: empties them.
const line = (point: string): string => `99 1 0:50 / ${point} rw,relatime - tmpfs tmpfs rw`;

async function fixture(): Promise<{
  root: string;
  mounts: string[][];
  mount: (args: readonly string[]) => Promise<void>;
  failing: (args: readonly string[]) => Promise<void>;
}> {
  const root = await mkdtemp(join(tmpdir(), 'wn-hide-'));
  const mounts: string[][] = [];
  return {
    root,
    mounts,
    mount: async (args) => {
      mounts.push([...args]);
      const target = args[args.length - 1] ?? '';
      if (args[0] === '--bind') await writeFile(target, '');
      else for (const name of await readdir(target)) await rm(join(target, name), { recursive: true });
    },
    failing: async () => {
      throw new Error('mount: permission denied');
    },
  };
}

const pool = (path: string): SecretSource => ({ path, option: '--pool-password-file (WN_POOL_PASSWORD_FILE)', kind: 'file' });

describe('hideSecretSources', () => {
  it('binds an empty read-only file over a pool password mounted as a file', async () => {
    const t = await fixture();
    const file = join(t.root, 'POOL');
    await writeFile(file, 'secret', { mode: 0o644 });
    const hidden = await hideSecretSources([pool(file)], {
      emptyFile: join(t.root, 'run/empty'),
      keep: [],
      mountinfo: line(file),
      mount: t.mount,
    });
    expect(hidden).toEqual([{ path: file, how: 'covered-file', covered: file }]);
    expect(t.mounts).toEqual([['--bind', '-o', 'ro', join(t.root, 'run/empty'), file]]);
  });

  it('covers a Kubernetes secret directory whole (its ..data links and every key), once for two secrets in it', async () => {
    const t = await fixture();
    const dir = join(t.root, 'passwords-orig.d');
    await mkdir(join(dir, '..2026_11_28'), { recursive: true });
    await writeFile(join(dir, '..2026_11_28/POOL'), 'secret', { mode: 0o644 });
    await writeFile(join(dir, '..2026_11_28/token'), 'secret', { mode: 0o644 });
    await symlink('..2026_11_28', join(dir, '..data'));
    await symlink('..data/POOL', join(dir, 'POOL'));
    await symlink('..data/token', join(dir, 'token'));
    const sources = [
      pool(join(dir, 'POOL')),
      { path: join(dir, 'token'), option: '--admin-token-file (WN_ADMIN_TOKEN_FILE)', kind: 'file' as const },
    ];
    const hidden = await hideSecretSources(sources, { emptyFile: join(t.root, 'empty'), keep: [], mountinfo: line(dir), mount: t.mount });
    expect(hidden).toEqual([{ path: join(dir, 'POOL'), how: 'covered-dir', covered: dir }]);
    expect(t.mounts).toEqual([['-t', 'tmpfs', '-o', 'ro,nosuid,nodev,noexec,mode=0555,size=4k', 'wn-agent-hidden', dir]]);
  });

  it('never covers a mounted directory the agent still needs (site configuration in it): the file alone is covered', async () => {
    const t = await fixture();
    const dir = join(t.root, 'wn-agent');
    await mkdir(join(dir, 'condor.d'), { recursive: true });
    await writeFile(join(dir, 'admin-token'), 'secret-secret-secret', { mode: 0o644 });
    const source = { path: join(dir, 'admin-token'), option: '--admin-token-file (WN_ADMIN_TOKEN_FILE)', kind: 'file' as const };
    const hidden = await hideSecretSources([source], {
      emptyFile: join(t.root, 'empty'),
      keep: [join(dir, 'condor.d')],
      mountinfo: line(dir),
      mount: t.mount,
    });
    expect(hidden).toEqual([{ path: source.path, how: 'covered-file', covered: source.path }]);
  });

  it('covers each token of a token directory that is not a mount point', async () => {
    const t = await fixture();
    const dir = join(t.root, 'tokens-orig.d');
    await mkdir(dir);
    await writeFile(join(dir, 'a'), 'tok-a');
    await writeFile(join(dir, 'b'), 'tok-b');
    const hidden = await hideSecretSources([{ path: dir, option: '--token-dir (WN_TOKEN_DIR)', kind: 'dir' }], {
      emptyFile: join(t.root, 'empty'),
      keep: [],
      mountinfo: '',
      mount: t.mount,
    });
    expect(hidden.map((h) => h.how)).toEqual(['covered-file', 'covered-file']);
  });

  it('without mounts: refuses a secret jobs could read, naming the option, the file, its mode and the fix', async () => {
    const t = await fixture();
    const file = join(t.root, 'POOL');
    await writeFile(file, 'secret');
    await chmod(file, 0o644);
    await expect(
      hideSecretSources([pool(file)], { emptyFile: join(t.root, 'empty'), keep: [], mountinfo: line(file), mount: t.failing }),
    ).rejects.toMatchObject({
      code: 'WN_ERR_CREDENTIALS',
      message: expect.stringMatching(
        /--pool-password-file \(WN_POOL_PASSWORD_FILE\) = .*POOL: .*mode 0644.*permission denied.*defaultMode: 0400/,
      ),
    });
  });

  it('without mounts: keeps a secret only root can read', async () => {
    const t = await fixture();
    const file = join(t.root, 'POOL');
    await writeFile(file, 'secret');
    await chmod(file, 0o400);
    const hidden = await hideSecretSources([pool(file)], { emptyFile: join(t.root, 'empty'), keep: [], mountinfo: '', mount: t.failing });
    expect(hidden).toEqual([{ path: file, how: 'private' }]);
  });

  it('skips what is not there (no pool password when tokens are used)', async () => {
    const t = await fixture();
    expect(
      await hideSecretSources([pool(join(t.root, 'nope'))], { emptyFile: join(t.root, 'empty'), keep: [], mountinfo: '', mount: t.mount }),
    ).toEqual([]);
  });
});
