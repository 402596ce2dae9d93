import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { AgentError } from '../errors.ts';
import { workerConfig, type WorkerSpec } from './spec.ts';
import { checkMountSources } from './mount-sources.ts';
import { checkNetworkName } from './network-check.ts';
import { checkCredentialMountsReadOnly, credentialPlaces } from './spec-credentials.ts';
import { specError } from './spec-error.ts';
import { parseBinds } from './spec-mounts.ts';

/** A spec is a few hundred bytes; this bounds what a cycle reads and parses. */
const maxSpecBytes = 1 << 20;

/**
 * The fleet's worker spec, a JSON file the site edits: {"image", "env", "mounts", "network", "cpus", "memoryMiB",
 * "args"}. Read at every cycle, so a changed file (a new image tag, say) is rolled out; a file that became invalid
 * stops nothing: the controller logs the message and keeps the last good spec. Its content becomes a privileged
 * container on the host, so only root may be able to write it.
 */
export async function readSpecFile(path: string): Promise<WorkerSpec> {
  const text = await readRootFile(path);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw fileError(path, (error as Error).message);
  }
  const spec = validateSpec(raw, path);
  await checkMountSources(parseBinds(spec.mounts, path), path);
  return spec;
}

/** The checks apply to the file opened, not to a name that could be swapped between a check and the read. */
async function readRootFile(path: string): Promise<string> {
  let handle: FileHandle;
  try {
    // O_NOFOLLOW: `fleet upgrade` replaces the file by rename, so a link would not survive it anyway;
    // O_NONBLOCK: a FIFO in its place must not hang the controller (it is refused below).
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw fileError(path, code === 'ELOOP' ? 'is a symbolic link; give the file itself' : (error as Error).message);
  }
  try {
    checkSpecFileStats(await handle.stat(), path);
    return await readCapped(handle, path);
  } finally {
    await handle.close();
  }
}

/** Whoever can write the spec chooses what runs privileged on this host: root alone, as for a systemd unit. */
export function checkSpecFileStats(stats: Stats, path: string): void {
  if (!stats.isFile()) throw fileError(path, 'must be a regular file');
  if (stats.uid !== 0)
    throw fileError(path, `must be owned by root, got owner uid ${stats.uid}: run chown root: ${path}; chmod go-w ${path}`);
  if ((stats.mode & 0o022) !== 0)
    throw fileError(path, `must not be writable by group or others, got mode 0${(stats.mode & 0o777).toString(8)}: run chmod go-w ${path}`);
  if (stats.size > maxSpecBytes) throw fileError(path, `must be at most 1 MiB, got ${stats.size} bytes`);
}

/** Reads at most maxSpecBytes, so a file that grows after fstat is still bounded. */
async function readCapped(handle: FileHandle, path: string): Promise<string> {
  const buffer = Buffer.alloc(maxSpecBytes + 1);
  let length = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
    if (bytesRead === 0) break;
    length += bytesRead;
    if (length > maxSpecBytes) throw fileError(path, 'must be at most 1 MiB (it grew while being read)');
  }
  return buffer.toString('utf8', 0, length);
}

function fileError(path: string, message: string): AgentError {
  return new AgentError('WN_ERR_CONFIG', `--spec ${path}: ${message}`);
}

export function validateSpec(raw: unknown, where: string): WorkerSpec {
  const bad = (field: string, want: string, ...got: [] | [unknown]): never => {
    throw specError(where, field, want, ...got);
  };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return bad('(top level)', 'a JSON object');
  const o = raw as Record<string, unknown>;
  const known = ['image', 'env', 'mounts', 'network', 'cpus', 'memoryMiB', 'args'];
  for (const key of Object.keys(o)) if (!known.includes(key)) bad(key, `one of ${known.join(', ')} (unknown field)`);
  if (typeof o.image !== 'string' || o.image === '') bad('image', 'an image reference', o.image ?? null);
  const env = o.env ?? {};
  if (typeof env !== 'object' || Array.isArray(env) || Object.values(env as object).some((v) => typeof v !== 'string'))
    bad('env', 'an object of strings');
  const strings = (field: string, value: unknown): string[] =>
    Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : bad(field, 'an array of strings');
  const positive = (field: string, value: unknown): number | undefined =>
    value === undefined
      ? undefined
      : typeof value === 'number' && value > 0 && Number.isFinite(value)
        ? value
        : bad(field, 'a positive number', value);
  if (o.network !== undefined && typeof o.network !== 'string') bad('network', 'a network name', o.network);
  const spec: WorkerSpec = {
    image: o.image as string,
    env: env as Record<string, string>,
    mounts: strings('mounts', o.mounts ?? []),
    network: o.network as string | undefined,
    cpus: positive('cpus', o.cpus),
    memoryMiB: positive('memoryMiB', o.memoryMiB),
    args: strings('args', o.args ?? []),
  };
  checkWorkerOptions(spec, where);
  checkWorkerAccepts(spec, where);
  if (spec.network !== undefined) checkNetworkName(spec.network, where);
  checkCredentialMountsReadOnly(parseBinds(spec.mounts, where), credentialPlaces(spec.env, spec.args), where);
  return spec;
}

/**
 * The worker's admin port is the controller's: it gives every worker its own token (a 0400 file, never a variable), and its listen
 * address and TLS are what the controller reaches workers with. Values are not echoed: they may be secrets.
 */
function checkWorkerOptions(spec: WorkerSpec, where: string): void {
  const variable = Object.keys(spec.env).find((key) => key.startsWith('WN_ADMIN'));
  if (variable !== undefined)
    throw specError(
      where,
      'env',
      "without WN_ADMIN_TOKEN or any other WN_ADMIN_* variable (the fleet gives every worker its own admin token; the admin port is the controller's business)",
      variable,
    );
  const flag = spec.args.find((arg) => arg.startsWith('--admin'));
  if (flag !== undefined)
    throw specError(where, 'args', "without --admin* flags (the fleet sets up every worker's admin port and token)", flag.split('=')[0]);
}

/**
 * Every worker started from the spec reads it with its own parser at start and exits 2 on what it refuses (a
 * reserved attribute such as WN_ATTR_ContainerImage, a mistyped WN_* variable, a bad value): the fleet reads it with
 * the same parser first, so such a spec is refused here, once, instead of crash-looping every worker it starts.
 */
function checkWorkerAccepts(spec: WorkerSpec, where: string): void {
  try {
    workerConfig(spec, 'fleet', 'worker');
  } catch (error) {
    throw new AgentError('WN_ERR_CONFIG', `--spec ${where}: a worker would refuse this spec (exit 2): ${(error as Error).message}`);
  }
}
