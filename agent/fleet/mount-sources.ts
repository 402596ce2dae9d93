import { realpath, stat } from 'node:fs/promises';
import { specError } from './spec-error.ts';
import { checkHostSource, type Bind } from './spec-mounts.ts';

/**
 * The host sides of the mounts, looked at where the controller can see them. A path missing here is allowed (the
 * controller may run in a container that does not see the host), but one that is here must not be a socket, nor be
 * a link to a place the spec could not name.
 */
export async function checkMountSources(binds: readonly Bind[], where: string): Promise<void> {
  for (const bind of binds) await checkMountSource(bind, where);
}

async function checkMountSource(bind: Bind, where: string): Promise<void> {
  const found = await stat(bind.host).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw specError(where, bind.field, `a host path the controller can look at (${error.code ?? error.message})`, bind.host);
  });
  if (!found) return;
  // stat follows links: a link to a socket is a socket here, as it would be for the engine.
  if (found.isSocket()) throw specError(where, bind.field, 'a host path that is not a socket', bind.host);
  checkHostSource(await realpath(bind.host).catch(() => bind.host), bind.field, where);
}
