import { runCondorTool } from '../condor/tools.ts';

/**
 * Idle jobs in the pool that a worker of this fleet could run: every schedd through the collector (`condor_q
 * -global`), jobs idle, asking for no more CPUs and memory than one worker has, and matching the site's own
 * constraint (for example on the attributes the fleet's workers advertise). Counted, never listed in a log.
 */
export interface DemandQuery {
  cpus: number;
  memoryMiB: number;
  /** An extra ClassAd constraint on the job ads, or undefined. */
  constraint?: string | undefined;
  /** HTCondor configuration that reaches the pool (CONDOR_HOST and a credential). */
  configFile: string;
}

export function demandConstraint({ cpus, memoryMiB, constraint }: Pick<DemandQuery, 'cpus' | 'memoryMiB' | 'constraint'>): string {
  const fits = `JobStatus == 1 && RequestCpus <= ${cpus} && RequestMemory <= ${memoryMiB}`;
  return constraint ? `${fits} && (${constraint})` : fits;
}

export async function idleJobs(query: DemandQuery): Promise<number> {
  const out = await runCondorTool('condor_q', ['-global', '-allusers', '-constraint', demandConstraint(query), '-af', 'ClusterId'], {
    configFile: query.configFile,
  });
  return out.split('\n').filter((line) => /^\d+$/.test(line.trim())).length;
}
