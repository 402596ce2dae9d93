import { basename } from 'node:path';
import { specError } from './spec-error.ts';
import { cleanAbsolute, overlaps, within } from './spec-paths.ts';
import { workerSecretDir } from './worker-credentials.ts';

/** One entry of the spec's "mounts", taken apart: the engine's `host:container[:options]` bind syntax. */
export interface Bind {
  /** The entry's name in messages: mounts[2]. */
  field: string;
  host: string;
  container: string;
  options: string[];
  readOnly: boolean;
}

/** The bind options the engines share (docker run -v, podman run -v); anything else is a typo or a trick. */
const bindOptions = ['ro', 'rw', 'z', 'Z', 'shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate', 'nosuid', 'nodev', 'noexec'];

/** The host's kernel interfaces and devices: a privileged worker given one of these owns the host. */
const kernelPlaces = ['/proc', '/sys', '/dev'];

/** Container engines' sockets and state: whoever reaches one starts containers of their own on the host. */
const enginePlaces = [
  '/run/docker.sock',
  '/var/run/docker.sock',
  '/run/podman',
  '/var/run/podman',
  '/run/containerd',
  '/var/run/containerd',
  '/run/crio',
  '/var/run/crio',
];

export function parseBinds(mounts: readonly string[], where: string): Bind[] {
  return mounts.map((entry, i) => parseBind(entry, `mounts[${i}]`, where));
}

function parseBind(entry: string, field: string, where: string): Bind {
  const parts = entry.split(':');
  if (parts.length < 2 || parts.length > 3)
    throw specError(where, field, 'host:container[:options] (absolute paths; no ":" inside them)', entry);
  const [hostPart = '', containerPart = '', optionPart] = parts;
  const host = absolute(hostPart, field, 'its host side', where);
  const container = absolute(containerPart, field, 'its container side', where);
  const options = bindOptionList(optionPart, field, where);
  checkHostSource(host, field, where);
  checkContainerTarget(container, field, where);
  return { field, host, container, options, readOnly: options.includes('ro') };
}

function absolute(path: string, field: string, side: string, where: string): string {
  const clean = cleanAbsolute(path);
  if (clean === undefined) throw specError(where, field, `an absolute path without ".." segments on ${side}`, path);
  return clean;
}

function bindOptionList(text: string | undefined, field: string, where: string): string[] {
  if (text === undefined) return [];
  const options = text.split(',');
  const unknown = options.find((option) => !bindOptions.includes(option));
  if (unknown !== undefined) throw specError(where, field, `bind options from ${bindOptions.join(', ')}`, text);
  if (options.includes('ro') && options.includes('rw')) throw specError(where, field, 'ro or rw, not both', text);
  return options;
}

/** The host side: nothing that holds, or lies in, the host's kernel interfaces, devices or a container engine. */
export function checkHostSource(host: string, field: string, where: string): void {
  const place = [...kernelPlaces, ...enginePlaces].find((p) => overlaps(host, p));
  if (place !== undefined)
    throw specError(
      where,
      field,
      `a host path that neither holds nor lies in ${place} (a worker runs privileged: that would hand its jobs the host)`,
      host,
    );
  if (basename(host).endsWith('.sock'))
    throw specError(where, field, 'a host path that is not a socket (a *.sock path is taken for one)', host);
}

/**
 * The container side: not over the worker's root or its own kernel interfaces, which the engine must set up, nor
 * over the directory the fleet puts each worker's own credentials in before it starts (a mount holding it would take
 * them: onto the host, or shared between workers that must each have their own).
 */
function checkContainerTarget(container: string, field: string, where: string): void {
  if (container === '/' || kernelPlaces.some((p) => within(container, p)))
    throw specError(where, field, `a container path apart from /, ${kernelPlaces.join(', ')} and below them`, container);
  if (overlaps(container, workerSecretDir))
    throw specError(
      where,
      field,
      `a container path that neither holds nor lies in ${workerSecretDir} (each worker's credentials)`,
      container,
    );
}
