import { chmod, chown, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../errors.ts';
import type { CondorLayout } from './layout.ts';

/** uid and gid of the condor account; HTCondor's daemons drop to it and must own LOG, SPOOL and EXECUTE. */
export async function condorIds(passwdFile = '/etc/passwd'): Promise<{ uid: number; gid: number } | undefined> {
  let text: string;
  try {
    text = await readFile(passwdFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === 'condor' && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** Creates HTCondor's directories under the state directory. Run as root in the image; as a user, ownership is left alone. */
export async function prepareCondorDirs(layout: CondorLayout): Promise<void> {
  const owner = process.getuid?.() === 0 ? await condorIds() : undefined;
  try {
    await mkdir(layout.localDir, { recursive: true, mode: 0o755 });
    for (const dir of [layout.log, layout.spool, layout.execute, layout.lock, layout.run]) {
      await mkdir(dir, { recursive: true, mode: 0o755 });
      if (owner) await chown(dir, owner.uid, owner.gid);
    }
    // Daemon logs say which jobs run where, as whom, with which arguments: not for jobs to read.
    await chmod(layout.log, 0o700);
  } catch (error) {
    throw new AgentError('WN_ERR_STATE_DIR', `cannot prepare ${layout.localDir}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The startd makes EXECUTE 0755 when it starts (check_execute_dir_perms); once it runs, EXECUTE becomes 0711: job
 * users still reach their own scratch directory, but cannot list the others'.
 */
export async function closeExecuteDir(layout: CondorLayout): Promise<void> {
  await chmod(layout.execute, 0o711).catch(() => undefined);
}

/** Site configuration files, in name order; editor backups and dotfiles are skipped as HTCondor's LOCAL_CONFIG_DIR does. */
export async function listSiteConfig(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new AgentError('WN_ERR_CONFIG', `--site-config-dir (WN_SITE_CONFIG_DIR): cannot read ${dir}: ${(error as Error).message}`);
  }
  return names
    .filter((name) => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) && !/(~|\.rpmsave|\.rpmnew|\.dpkg-\w+|\.swp)$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}
