/** What a container scheduler tells a task about itself, reduced to one shape. */
export type SchedulerName = 'mesos' | 'kubernetes' | 'nomad' | 'docker' | 'none';

export interface SchedulerFacts {
  scheduler: SchedulerName;
  /** The scheduler's ID for this task: Mesos task ID, namespace/pod, Nomad allocation ID. */
  taskId?: string;
  /** The physical host, when the scheduler says. */
  host?: string;
  /** Resources the scheduler granted, when it says (a hint, used only where no cgroup limit applies). */
  cpus?: number;
  memoryMiB?: number;
  /** The scheduler's own names, as ClassAd attribute name → value. */
  attributes: Record<string, string>;
}

export type Env = Record<string, string | undefined>;

/** Copies env variables that are set and not empty into attributes under the given names. */
export function pickAttributes(env: Env, names: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [attribute, variable] of Object.entries(names)) {
    const value = env[variable];
    if (value !== undefined && value !== '') out[attribute] = value;
  }
  return out;
}
