import { healthAttribute } from '../cvmfs/attributes.ts';
import { classAdString } from '../condor/classad.ts';
import type { WorkerSpec } from './backend.ts';
import { workerName } from './worker-name.ts';

/** The engine host's resources: what a worker whose spec sets no CPU or memory limit sees and advertises. */
export interface HostFacts {
  cpus?: number | undefined;
  memoryMiB?: number | undefined;
  /** The execute disk running workers report (KiB): a new worker's `Disk`. */
  diskKiB?: number | undefined;
}

/** The attribute every worker of a fleet advertises with the fleet's name, so jobs can ask for the fleet. */
export const fleetAttribute = 'WnFleet';

/**
 * The machine ad a worker of this spec will advertise, as far as it is known before one runs: its resources, the
 * fleet's name, the task-ID prefix the engine gives it, its image, the operator's attributes (WN_ATTR_<Name> in the
 * spec's env, --attr in its args) and its CVMFS repositories as healthy. Idle jobs' Requirements are evaluated
 * against it, so the fleet grows only for jobs its workers would match. It holds only values a real worker of the
 * spec will have: a job that asks for something only the prototype has would make the fleet grow for a job that
 * no worker then runs, again and again. CPUs and memory the spec does not limit are the engine host's (one CPU and
 * the job's own request being the fallback when the engine did not say). The execute disk is what running workers
 * report; before any has, it is taken as large, so RequestDisk alone never keeps an empty fleet from growing.
 */
export function prototypeAd(
  spec: WorkerSpec,
  fleet: string,
  hash: string,
  host?: HostFacts | undefined,
): Record<string, string | number | boolean> {
  const cpus = spec.cpus ?? host?.cpus ?? 1;
  const memory = spec.memoryMiB ?? host?.memoryMiB ?? 1 << 30;
  const ad: Record<string, string | number | boolean> = {
    MyType: 'Machine',
    Arch: 'X86_64',
    OpSys: 'LINUX',
    HasFileTransfer: true,
    Cpus: cpus,
    TotalCpus: cpus,
    Memory: memory,
    TotalMemory: memory,
    Disk: host?.diskKiB ?? 2 ** 40,
    [fleetAttribute]: fleet,
    ContainerTaskId: workerName(fleet, hash),
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
