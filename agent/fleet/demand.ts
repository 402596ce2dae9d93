import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCondorTool } from '../condor/tools.ts';
import type { WorkerSpec } from './backend.ts';
import { newClassAd, prototypeAd } from './prototype.ts';

/**
 * Idle jobs in the pool that a worker of this fleet would match: every schedd through the collector (`condor_q
 * -global`), jobs idle, asking for no more CPUs and memory than one worker has, matching the site's own constraint,
 * and whose Requirements are true against the machine ad a worker of this spec will advertise (prototype.ts).
 * Counted, never listed in a log.
 *
 * Jobs are grouped by what decides their match (the Requirements expression as written and the resource requests):
 * a pool of 10,000 pilots holds a handful of groups. One job of each new group is read whole and evaluated with
 * HTCondor's own classad_eval, at most `evaluationsPerCycle` groups a cycle; the verdict is kept for that group and
 * spec. A group not yet evaluated does not count: the fleet never grows for jobs it has not matched.
 */
export interface DemandQuery {
  spec: WorkerSpec;
  fleet: string;
  specHash: string;
  /** An extra ClassAd constraint on the job ads, or undefined. */
  constraint?: string | undefined;
  /** HTCondor configuration that reaches the pool (CONDOR_HOST and a credential). */
  configFile: string;
}

export function demandConstraint({
  cpus,
  memoryMiB,
  constraint,
}: {
  cpus: number;
  memoryMiB: number;
  constraint?: string | undefined;
}): string {
  const fits = `JobStatus == 1 && RequestCpus <= ${cpus} && RequestMemory <= ${memoryMiB}`;
  return constraint ? `${fits} && (${constraint})` : fits;
}

export interface JobGroup {
  key: string;
  count: number;
  /** GlobalJobId of one job of the group: schedd#cluster.proc#time. */
  example: string;
}

/** condor_q -af:rt GlobalJobId Requirements RequestCpus RequestMemory RequestDisk, grouped. Bad lines are skipped. */
export function groupJobs(output: string): JobGroup[] {
  const groups = new Map<string, JobGroup>();
  for (const line of output.split('\n')) {
    const [quotedId, ...rest] = line.split('\t');
    const id = /^"([\w.@:-]+#\d+\.\d+#\d+)"$/.exec(quotedId ?? '')?.[1];
    if (!id || rest.length !== 4) continue;
    const key = createHash('sha256').update(rest.join('\t')).digest('hex').slice(0, 16);
    const group = groups.get(key);
    if (group) group.count += 1;
    else groups.set(key, { key, count: 1, example: id });
  }
  return [...groups.values()];
}

export class Demand {
  /** Verdicts by spec hash + group key; bounded, and dropped whole when full. */
  private readonly verdicts = new Map<string, boolean>();

  constructor(
    private readonly evaluationsPerCycle = 16,
    private readonly maxVerdicts = 2000,
  ) {}

  async idleJobs(query: DemandQuery): Promise<number> {
    const { spec, configFile } = query;
    const constraint = demandConstraint({ cpus: spec.cpus ?? 1, memoryMiB: spec.memoryMiB ?? 1 << 30, constraint: query.constraint });
    const out = await runCondorTool(
      'condor_q',
      [
        '-global',
        '-allusers',
        '-constraint',
        constraint,
        '-af:rt',
        'GlobalJobId',
        'Requirements',
        'RequestCpus',
        'RequestMemory',
        'RequestDisk',
      ],
      {
        configFile,
      },
    );
    const groups = groupJobs(out);
    if (this.verdicts.size > this.maxVerdicts) this.verdicts.clear();
    let evaluations = 0;
    let matching = 0;
    let dir: string | undefined;
    try {
      for (const group of groups) {
        const id = `${query.specHash}:${group.key}`;
        let verdict = this.verdicts.get(id);
        if (verdict === undefined && evaluations < this.evaluationsPerCycle) {
          evaluations += 1;
          if (dir === undefined) {
            // The machine ad is the same for every group of this cycle: written once, beside each job ad in turn.
            dir = await mkdtemp(join(tmpdir(), 'wn-fleet-demand-'));
            await writeFile(join(dir, 'machine.ad'), newClassAd(prototypeAd(spec, query.fleet, query.specHash)));
          }
          verdict = await this.evaluate(group.example, dir, configFile);
          if (verdict !== undefined) this.verdicts.set(id, verdict);
        }
        if (verdict) matching += group.count;
      }
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
    return matching;
  }

  /** One job's Requirements against the prototype in dir/machine.ad; undefined when the job left the queue meanwhile. */
  private async evaluate(globalJobId: string, dir: string, configFile: string): Promise<boolean | undefined> {
    const schedd = globalJobId.split('#')[0] ?? '';
    const jobAd = await runCondorTool(
      'condor_q',
      ['-name', schedd, '-allusers', '-constraint', `GlobalJobId == "${globalJobId}"`, '-long:new'],
      { configFile },
    );
    if (!jobAd.includes('[')) return undefined;
    await writeFile(join(dir, 'job.ad'), jobAd);
    const result = await runCondorTool(
      'classad_eval',
      ['-quiet', '-file', join(dir, 'job.ad'), '-target-file', join(dir, 'machine.ad'), 'Requirements'],
      { configFile },
    );
    return result.trim() === 'true';
  }
}
