import { mkdtemp, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { installCredentials } from '../../agent/condor/credentials.ts';
import { condorLayout, type CondorLayout } from '../../agent/condor/layout.ts';

let root: string;
let layout: CondorLayout;
let source: { poolPasswordFile: string; tokenDir: string };

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'wn-cred-'));
  layout = condorLayout(join(root, 'state'));
  source = { poolPasswordFile: join(root, 'orig', 'passwords-orig.d', 'POOL'), tokenDir: join(root, 'orig', 'tokens-orig.d') };
  await mkdir(join(root, 'orig', 'passwords-orig.d'), { recursive: true });
});

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('installCredentials', () => {
  it('copies the pool password with mode 0600', async () => {
    await writeFile(source.poolPasswordFile, 'secret', { mode: 0o644 });
    expect(await installCredentials(source, layout)).toEqual({ poolPassword: true, tokens: [] });
    const installed = join(layout.passwordDir, 'POOL');
    expect(await readFile(installed, 'utf8')).toBe('secret');
    expect(await mode(installed)).toBe(0o600);
    expect(await mode(layout.passwordDir)).toBe(0o700);
  });

  it('copies tokens through Kubernetes-style symlinks and skips its ..data entries', async () => {
    const data = join(source.tokenDir, '..2026_11_24');
    await mkdir(data, { recursive: true });
    await writeFile(join(data, 'worker-token'), 'eyJ...', { mode: 0o644 });
    await symlink('..2026_11_24', join(source.tokenDir, '..data'));
    await symlink('..data/worker-token', join(source.tokenDir, 'worker-token'));
    expect(await installCredentials(source, layout)).toEqual({ poolPassword: false, tokens: ['worker-token'] });
    expect(await readdir(layout.tokenDir)).toEqual(['worker-token']);
    expect(await mode(join(layout.tokenDir, 'worker-token'))).toBe(0o600);
  });

  it('forgets a credential that was removed from the mount since the last start', async () => {
    await mkdir(source.tokenDir, { recursive: true });
    await writeFile(join(source.tokenDir, 'old'), 'x');
    await writeFile(source.poolPasswordFile, 'secret');
    await installCredentials(source, layout);
    await writeFile(join(source.tokenDir, 'old'), 'x');
    const { rm } = await import('node:fs/promises');
    await rm(join(source.tokenDir, 'old'));
    await installCredentials(source, layout);
    expect(await readdir(layout.tokenDir)).toEqual([]);
  });

  it('refuses to start without any credential, naming both places it looked', async () => {
    await expect(installCredentials(source, layout)).rejects.toMatchObject({
      code: 'WN_ERR_CREDENTIALS',
      exitCode: 2,
      message: expect.stringMatching(/--pool-password-file \(WN_POOL_PASSWORD_FILE\).*--token-dir \(WN_TOKEN_DIR\)/),
    });
  });
});
