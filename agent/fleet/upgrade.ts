import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AgentError } from '../errors.ts';
import { specHash } from './spec.ts';
import { type FleetBackend } from './backend.ts';
import { validateSpec } from './spec-file.ts';

/** What `wn-agent fleet upgrade` changes in the spec file: a new image, and environment entries set or removed. */
export interface SpecChange {
  image?: string | undefined;
  /** KEY=VALUE sets KEY; KEY= (empty value) removes it. */
  env?: Record<string, string> | undefined;
}

export interface UpgradeResult {
  before: string;
  after: string;
  changed: boolean;
}

/**
 * Writes the changed spec over the file the controller re-reads every cycle, so the running controller (or the next
 * one, after a restart) rolls it out: the rollout's state is the file and the workers' spec labels, nothing else.
 * The new spec is validated before anything is written, and the write is a rename of a complete file in the same
 * directory, so a controller reading at that moment sees the old spec or the new one, never half of either.
 */
export async function upgradeSpecFile(path: string, change: SpecChange): Promise<UpgradeResult> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new AgentError('WN_ERR_CONFIG', `--spec ${path}: ${(error as Error).message}`);
  }
  const before = specHash(validateSpec(raw, path));
  const next: Record<string, unknown> = { ...raw };
  if (change.image !== undefined) next.image = change.image;
  if (change.env) {
    const env = { ...((raw.env as Record<string, string> | undefined) ?? {}) };
    for (const [key, value] of Object.entries(change.env)) {
      if (value === '') delete env[key];
      else env[key] = value;
    }
    next.env = env;
  }
  const after = specHash(validateSpec(next, path));
  if (after === before) return { before, after, changed: false };
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}`);
  try {
    await writeRootFile(temporary, `${JSON.stringify(next, null, 2)}\n`, await specFileOwnership(path));
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new AgentError('WN_ERR_CONFIG', `--spec ${path}: cannot write the new spec: ${(error as Error).message}`, { cause: error });
  }
  return { before, after, changed: true };
}

/**
 * What the new file gets: root as owner, the old group, and the old mode less group and other write (0644 if the old
 * file cannot be looked at), since the controller reads only a spec that root alone can change.
 */
async function specFileOwnership(path: string): Promise<{ mode: number; gid: number }> {
  const old = await stat(path).catch(() => undefined);
  return old ? { mode: old.mode & 0o777 & ~0o022, gid: old.gid } : { mode: 0o644, gid: 0 };
}

/** chmod after creating: the mode given to open() is cut by the umask. */
async function writeRootFile(file: string, text: string, { mode, gid }: { mode: number; gid: number }): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.chown(0, gid).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EPERM' ? new Error('the controller reads only a spec owned by root: run fleet upgrade as root') : error;
    });
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}

/** --env KEY=VALUE entries as an object; a bad entry names the flag. */
export function parseEnvChanges(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(entry);
    if (!match?.[1]) throw new AgentError('WN_ERR_CONFIG', `--env: expected KEY=VALUE (KEY= removes KEY), got ${JSON.stringify(entry)}`);
    env[match[1]] = match[2] ?? '';
  }
  return env;
}

/** Live workers of the fleet by spec: how far a rollout of `hash` has come. */
export async function rolloutProgress(backend: FleetBackend, hash: string): Promise<{ current: number; outdated: number }> {
  const live = (await backend.list()).filter((w) => w.running);
  const current = live.filter((w) => w.specHash === hash).length;
  return { current, outdated: live.length - current };
}
