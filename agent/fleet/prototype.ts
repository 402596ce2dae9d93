import { classAdString, healthAttribute } from '../contract/worker-contract.ts';
import { workerConfig, type WorkerSpec } from './spec.ts';
import { workerName } from './worker-name.ts';

/** The engine host's resources: what a worker whose spec sets no CPU or memory limit sees and advertises. */
export interface HostFacts {
  cpus?: number | undefined;
  memoryMiB?: number | undefined;
  /** The execute disk running workers report (KiB): a new worker's `Disk`. */
  diskKiB?: number | undefined;
}

/**
 * The machine ad a worker of this spec will advertise, as far as it is known before one runs, from the worker's own
 * reading of the spec (its parseConfig over the spec's environment and arguments, with what the fleet adds): its
 * resources, the fleet's name (WnFleet, an attribute the fleet gives it), its task ID, its image, the operator's
 * attributes and its CVMFS repositories as healthy. Idle jobs' Requirements are evaluated against it, so the fleet
 * grows only for jobs its workers would match. It holds only values a real worker of the spec will have: a job that
 * asks for something only the prototype has would make the fleet grow for a job that no worker then runs, again and
 * again. CPUs and memory are the worker's flags, else the spec's container limits, else the engine host's (one CPU
 * and the job's own request being the fallback when the engine did not say). The execute disk is what running workers
 * report; before any has, it is taken as large, so RequestDisk alone never keeps an empty fleet from growing.
 */
export function prototypeAd(
  spec: WorkerSpec,
  fleet: string,
  hash: string,
  host?: HostFacts | undefined,
): Record<string, string | number | boolean> {
  const name = workerName(fleet, hash);
  const config = workerConfig(spec, fleet, name);
  const cpus = config.cpus ?? spec.cpus ?? host?.cpus ?? 1;
  const memory = config.memoryMiB ?? spec.memoryMiB ?? host?.memoryMiB ?? 1 << 30;
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
    ContainerTaskId: config.taskId ?? name,
    ContainerImage: config.image ?? spec.image,
    ...config.attributes,
  };
  const repos = [...config.cvmfs.required, ...config.cvmfs.optional];
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
