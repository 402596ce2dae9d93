import { chmod, copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../errors.ts';
import { optionName } from '../config/parse.ts';
import type { CondorLayout } from './layout.ts';

export interface InstalledCredentials {
  poolPassword: boolean;
  /** File names only: token contents are never logged. */
  tokens: string[];
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile(); // follows symlinks: Kubernetes secret volumes are symlinks into ..data/
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function copyPrivate(from: string, to: string, flag: string): Promise<void> {
  try {
    await copyFile(from, to);
    await chmod(to, 0o600); // HTCondor refuses a pool password or token readable by others.
  } catch (error) {
    throw new AgentError('WN_ERR_CREDENTIALS', `${optionName(flag)}: cannot install ${from}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Copies the mounted pool password and tokens into the agent's own HTCondor directories with mode 0600 and root as
 * owner, as HTCondor's images do from passwords-orig.d and tokens-orig.d: secret mounts cannot always set either.
 * The directories are emptied first, so a credential removed from the mount is gone after a restart too.
 */
export async function installCredentials(
  source: { poolPasswordFile: string; tokenDir: string },
  layout: CondorLayout,
): Promise<InstalledCredentials> {
  for (const dir of [layout.passwordDir, layout.tokenDir]) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }

  const poolPassword = await isFile(source.poolPasswordFile);
  if (poolPassword) await copyPrivate(source.poolPasswordFile, join(layout.passwordDir, 'POOL'), 'pool-password-file');

  const tokens: string[] = [];
  let names: string[] = [];
  try {
    names = await readdir(source.tokenDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new AgentError(
        'WN_ERR_CREDENTIALS',
        `${optionName('token-dir')}: cannot read ${source.tokenDir}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue; // Kubernetes' ..data and ..<timestamp> entries
    const from = join(source.tokenDir, name);
    if (!(await isFile(from))) continue;
    await copyPrivate(from, join(layout.tokenDir, name), 'token-dir');
    tokens.push(name);
  }

  if (!poolPassword && tokens.length === 0) {
    throw new AgentError(
      'WN_ERR_CREDENTIALS',
      `no pool credential: mount the pool password at ${optionName('pool-password-file')} = ${source.poolPasswordFile} ` +
        `or IDTOKENS in ${optionName('token-dir')} = ${source.tokenDir}`,
    );
  }
  return { poolPassword, tokens };
}
