import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { condorPaths } from '../contract/worker-contract.ts';
import { AgentError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { LruMap } from '../util/lru.ts';
import { streamLines } from '../util/stream-lines.ts';
import type { WorkerSpec } from './spec.ts';
import { defaultEvaluationLimits, evaluateJob, type Evaluation, type EvaluationLimits } from './evaluate.ts';
import { baseColumns, GroupingPass, type JobGroup } from './job-groups.ts';
import { jobReferences } from './job-references.ts';
import { newClassAd, prototypeAd, type HostFacts } from './prototype.ts';

/**
 * Idle jobs in the pool that a worker of this fleet would match: every schedd through the collector (`condor_q
 * -global`), jobs idle, asking for no more CPUs and memory than one worker has, matching the site's own constraint,
 * and whose Requirements are true against the machine ad a worker of this spec will advertise (prototype.ts).
 * Counted, never listed in a log.
 *
 * Every part of this is any pool user's input, so every part is bounded: condor_q's output is streamed a line at a
 * time (a line over 64 KiB is dropped, not held), groups are at most 10,000, one job of each new group is evaluated
 * under CPU, memory and time limits, at most `evaluationsPerCycle` a cycle and within the cycle's time budget, a
 * group whose evaluation fails is remembered as not matching (and said once), and one owner's jobs count at most
 * `perOwnerCap`. A group not yet evaluated does not count: the fleet never grows for jobs it has not matched.
 */
export interface DemandQuery {
  spec: WorkerSpec;
  fleet: string;
  specHash: string;
  /** An extra ClassAd constraint on the job ads, or undefined. */
  constraint?: string | undefined;
  /** HTCondor configuration that reaches the pool (CONDOR_HOST and a credential). */
  configFile: string;
  /** What a worker without a CPU or memory limit in its spec gets: the engine host's. */
  host?: HostFacts | undefined;
  /** Idle jobs of one owner that count, at most (the fleet's whole capacity by default). */
  perOwnerCap?: number | undefined;
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

export interface DemandOptions {
  evaluationsPerCycle: number;
  /** Verdicts kept (by spec, machine ad and group), least recently used dropped first. */
  maxVerdicts: number;
  /** Time for one demand reading: condor_q's deadline, and evaluations stop when it is near. */
  budgetMs: number;
  maxLineBytes: number;
  maxGroups: number;
  /** Job attributes that Requirements read, followed as condor_q columns, at most. */
  maxExtraColumns: number;
  limits: EvaluationLimits;
  /** Where HTCondor's tools are (condor_q, classad_eval). */
  bin: string;
  log?: Logger | undefined;
}

/** What the last reading left uncounted, and why: each a count an operator can act on. */
export interface DemandReport {
  groups: number;
  matching: number;
  /** condor_q lines over the line limit (a job with a huge Requirements, say). */
  overlong: number;
  unreadable: number;
  /** Jobs whose Requirements read job attributes not yet followed (counted from the next cycle on). */
  unkeyed: number;
  overflow: number;
  /** Groups not evaluated yet (the per-cycle limit or the time budget). */
  pending: number;
  /** Idle jobs above an owner's cap. */
  capped: number;
}

const defaults: DemandOptions = {
  evaluationsPerCycle: 16,
  maxVerdicts: 5000,
  budgetMs: 60_000,
  maxLineBytes: 64 << 10,
  maxGroups: 10_000,
  maxExtraColumns: 32,
  limits: defaultEvaluationLimits,
  bin: condorPaths.bin,
};

export class Demand {
  private readonly options: DemandOptions;
  private readonly verdicts: LruMap<string, boolean>;
  /** Job attributes each Requirements text reads, by the text's hash. */
  private readonly references = new LruMap<string, readonly string[]>(2000);
  private extraColumns: string[] = [];
  last: DemandReport | undefined;

  constructor(options: Partial<DemandOptions> = {}) {
    this.options = { ...defaults, ...options };
    this.verdicts = new LruMap(this.options.maxVerdicts);
  }

  async idleJobs(query: DemandQuery): Promise<number> {
    const { spec, configFile } = query;
    const { budgetMs, bin } = this.options;
    const deadline = Date.now() + budgetMs;
    const machine = prototypeAd(spec, query.fleet, query.specHash, query.host);
    const memoryMiB = typeof machine.Memory === 'number' ? machine.Memory : 1;
    const cpus = typeof machine.Cpus === 'number' ? machine.Cpus : 1;
    const machineNames = new Set(Object.keys(machine));
    const pass = new GroupingPass(
      [...baseColumns, ...this.extraColumns],
      (text) => this.referencesOf(text, machineNames),
      this.options.maxGroups,
    );
    const streamed = await streamLines(
      join(bin, 'condor_q'),
      [
        '-global',
        '-allusers',
        '-constraint',
        demandConstraint({ cpus, memoryMiB, constraint: query.constraint }),
        '-af:rt',
        ...pass.columns,
      ],
      {
        timeoutMs: budgetMs,
        env: { ...process.env, CONDOR_CONFIG: configFile },
        maxLineBytes: this.options.maxLineBytes,
        onLine: (line) => pass.add(line),
      },
    );
    if (!streamed.ok) throw new AgentError('WN_ERR_CONDOR_TOOL', `condor_q -global (idle jobs): ${streamed.why}`);
    this.extraColumns = pass.nextExtraColumns(this.options.maxExtraColumns);
    // The verdict holds for this machine ad: a spec, an image or an engine host that changed is a new one.
    const stable = Object.entries(machine).filter(([name]) => name !== 'ContainerTaskId'); // new every cycle, like a worker's
    const adKey = createHash('sha256').update(JSON.stringify(stable)).digest('hex').slice(0, 12);
    const perOwner = new Map<string, number>();
    let evaluations = 0;
    let pending = 0;
    let dir: string | undefined;
    try {
      for (const group of byOwnerInTurn([...pass.groups.values()])) {
        const id = `${query.specHash}:${adKey}:${group.key}`;
        let verdict = this.verdicts.get(id);
        const timeLeft = deadline - Date.now() > 2 * this.options.limits.timeoutMs;
        if (verdict === undefined && evaluations < this.options.evaluationsPerCycle && timeLeft) {
          evaluations += 1;
          // The machine ad is the same for every group of this cycle: written once, beside each job ad in turn.
          dir ??= await this.machineDir(machine);
          verdict = this.remember(id, group, await evaluateJob(group.example, dir, configFile, this.options.limits, bin));
        }
        if (verdict === undefined) pending += 1;
        if (verdict) perOwner.set(group.owner, (perOwner.get(group.owner) ?? 0) + group.count);
      }
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
    const cap = query.perOwnerCap ?? Number.POSITIVE_INFINITY;
    const counts = [...perOwner.values()];
    const matching = counts.reduce((sum, n) => sum + Math.min(n, cap), 0);
    this.report({
      groups: pass.groups.size,
      matching,
      overlong: streamed.overlong,
      unreadable: pass.unreadable,
      unkeyed: pass.unkeyed,
      overflow: pass.overflow,
      pending,
      capped: counts.reduce((sum, n) => sum + Math.max(0, n - cap), 0),
    });
    return matching;
  }

  private referencesOf(text: string, machineNames: ReadonlySet<string>): readonly string[] {
    const key = createHash('sha256').update(text).digest('hex');
    let names = this.references.get(key);
    if (!names) {
      names = jobReferences(text, machineNames);
      this.references.set(key, names);
    }
    return names;
  }

  private async machineDir(machine: Record<string, string | number | boolean>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'wn-fleet-demand-'));
    await writeFile(join(dir, 'machine.ad'), newClassAd(machine));
    return dir;
  }

  /** A verdict to keep: a failed evaluation is kept as "does not match", so one bad job costs one evaluation, once. */
  private remember(id: string, group: JobGroup, evaluation: Evaluation): boolean | undefined {
    if ('gone' in evaluation || 'retry' in evaluation) return undefined; // asked again next cycle
    if ('verdict' in evaluation) {
      this.verdicts.set(id, evaluation.verdict);
      return evaluation.verdict;
    }
    this.verdicts.set(id, false);
    this.options.log?.warn(
      {
        event: 'fleet-demand-evaluation-failed',
        group: group.key,
        owner: group.owner,
        job: group.example,
        jobs: group.count,
        why: evaluation.failed,
      },
      `${group.count} idle job(s) of ${group.owner} (like ${group.example}) do not count: their Requirements could not be evaluated (${evaluation.failed})`,
    );
    return false;
  }

  private report(next: DemandReport): void {
    const uncounted = uncountedOf(next);
    const previous = this.last && uncountedOf(this.last);
    this.last = next;
    if (Object.values(uncounted).every((n) => n === 0) || JSON.stringify(uncounted) === JSON.stringify(previous)) return;
    this.options.log?.info(
      { event: 'fleet-demand-uncounted', ...uncounted },
      `idle jobs not counted as demand: ${Object.entries(uncounted)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}`,
    );
  }
}

/** The counts of jobs left out, and why: said when they change, not every cycle. */
function uncountedOf(r: DemandReport): Record<string, number> {
  return { overlong: r.overlong, unreadable: r.unreadable, unkeyed: r.unkeyed, overflow: r.overflow, capped: r.capped };
}

/**
 * The groups with each owner's in turn (the first of every owner, then the second of every owner, ...): the
 * evaluations a cycle allows go round the owners, so one user's thousands of groups cannot keep another's first
 * group from being evaluated.
 */
export function byOwnerInTurn(groups: readonly JobGroup[]): JobGroup[] {
  const queues = new Map<string, JobGroup[]>();
  for (const group of groups) {
    const queue = queues.get(group.owner);
    if (queue) queue.push(group);
    else queues.set(group.owner, [group]);
  }
  const out: JobGroup[] = [];
  for (let round = 0; out.length < groups.length; round++)
    for (const queue of queues.values()) if (queue[round]) out.push(queue[round] as JobGroup);
  return out;
}
