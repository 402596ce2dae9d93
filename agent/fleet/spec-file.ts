import { readFile } from 'node:fs/promises';
import { AgentError } from '../errors.ts';
import type { WorkerSpec } from './backend.ts';

/**
 * The fleet's worker spec, a JSON file the site edits: {"image", "env", "mounts", "network", "cpus", "memoryMiB",
 * "args"}. Read at every cycle, so a changed file (a new image tag, say) is rolled out; a file that became invalid
 * stops nothing: the controller logs the message and keeps the last good spec.
 */
export async function readSpecFile(path: string): Promise<WorkerSpec> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new AgentError('WN_ERR_CONFIG', `--spec ${path}: ${(error as Error).message}`);
  }
  return validateSpec(raw, path);
}

export function validateSpec(raw: unknown, where: string): WorkerSpec {
  const bad = (field: string, want: string): never => {
    throw new AgentError('WN_ERR_CONFIG', `--spec ${where}: "${field}" must be ${want}`);
  };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return bad('(top level)', 'a JSON object');
  const o = raw as Record<string, unknown>;
  const known = ['image', 'env', 'mounts', 'network', 'cpus', 'memoryMiB', 'args'];
  for (const key of Object.keys(o)) if (!known.includes(key)) bad(key, `one of ${known.join(', ')} (unknown field)`);
  if (typeof o.image !== 'string' || o.image === '') bad('image', 'an image reference');
  const env = o.env ?? {};
  if (typeof env !== 'object' || Array.isArray(env) || Object.values(env as object).some((v) => typeof v !== 'string'))
    bad('env', 'an object of strings');
  if (Object.keys(env as object).some((k) => k === 'WN_ADMIN_TOKEN'))
    bad('env', 'without WN_ADMIN_TOKEN (the fleet gives every worker its own --admin-token-file token)');
  const strings = (field: string, value: unknown): string[] =>
    Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : bad(field, 'an array of strings');
  const positive = (field: string, value: unknown): number | undefined =>
    value === undefined
      ? undefined
      : typeof value === 'number' && value > 0 && Number.isFinite(value)
        ? value
        : bad(field, 'a positive number');
  if (o.network !== undefined && typeof o.network !== 'string') bad('network', 'a network name');
  return {
    image: o.image as string,
    env: env as Record<string, string>,
    mounts: strings('mounts', o.mounts ?? []),
    network: o.network as string | undefined,
    cpus: positive('cpus', o.cpus),
    memoryMiB: positive('memoryMiB', o.memoryMiB),
    args: strings('args', o.args ?? []),
  };
}
