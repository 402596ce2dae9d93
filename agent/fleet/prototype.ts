import { healthAttribute } from '../cvmfs/attributes.ts';
import { classAdString } from '../condor/classad.ts';
import type { WorkerSpec } from './backend.ts';

/** The attribute every worker of a fleet advertises with the fleet's name, so jobs can ask for the fleet. */
export const fleetAttribute = 'WnFleet';

/**
 * The machine ad a worker of this spec will advertise, as far as it is known before one runs: its resources, the
 * fleet's name, the task-ID prefix the engine gives it, its image, the operator's attributes (WN_ATTR_<Name> in the
 * spec's env, --attr in its args) and its CVMFS repositories as healthy. Idle jobs' Requirements are evaluated
 * against it, so the fleet grows only for jobs its workers would match. Memory and disk that the spec does not set
 * are the host's, unknown here: they are taken as large (optimistic), so a job is never left waiting for a worker
 * that a size limit the spec does not have would have refused.
 */
export function prototypeAd(spec: WorkerSpec, fleet: string, hash: string): Record<string, string | number | boolean> {
  const cpus = spec.cpus ?? 1;
  const memory = spec.memoryMiB ?? 1 << 30;
  const ad: Record<string, string | number | boolean> = {
    MyType: 'Machine',
    Arch: 'X86_64',
    OpSys: 'LINUX',
    HasFileTransfer: true,
    Cpus: cpus,
    TotalCpus: cpus,
    Memory: memory,
    TotalMemory: memory,
    Disk: 2 ** 40,
    [fleetAttribute]: fleet,
    ContainerTaskId: `${fleet}-${hash.slice(0, 6)}-prototype`,
    ContainerImage: spec.image,
  };
  for (const [key, value] of Object.entries(spec.env)) {
    const name = /^WN_ATTR_(\w+)$/.exec(key)?.[1];
    if (name) ad[name] = value;
  }
  for (const entry of flagValues(spec.args, '--attr')) {
    const match = /^(\w+)=(.*)$/s.exec(entry);
    if (match?.[1]) ad[match[1]] = match[2] ?? '';
  }
  const repos = [
    ...(spec.env.WN_CVMFS_REPOSITORIES ?? '').split(','),
    ...(spec.env.WN_CVMFS_OPTIONAL_REPOSITORIES ?? '').split(','),
    ...flagValues(spec.args, '--cvmfs-repositories').flatMap((v) => v.split(',')),
    ...flagValues(spec.args, '--cvmfs-optional-repositories').flatMap((v) => v.split(',')),
  ]
    .map((r) => r.trim())
    .filter(Boolean);
  for (const repo of repos) ad[healthAttribute(repo)] = true;
  if (repos.length > 0) ad.CVMFS_HEALTHY = repos.join(',');
  return ad;
}

/** The ad in the new ClassAd syntax that classad_eval reads: [ Name = value; ... ]. */
export function newClassAd(ad: Record<string, string | number | boolean>): string {
  const value = (v: string | number | boolean): string => (typeof v === 'string' ? classAdString(v) : String(v));
  return `[ ${Object.entries(ad)
    .map(([k, v]) => `${k} = ${value(v)}`)
    .join('; ')} ]\n`;
}

/** Values of a flag in an argument list, as `--flag value` or `--flag=value`. */
function flagValues(args: readonly string[], flag: string): string[] {
  const values: string[] = [];
  args.forEach((arg, i) => {
    if (arg === flag && args[i + 1] !== undefined) values.push(args[i + 1] as string);
    else if (arg.startsWith(`${flag}=`)) values.push(arg.slice(flag.length + 1));
  });
  return values;
}
