import { readlinkSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { jobLimits, limitWrites, type JobLimitOptions, type JobLimits, type LimitWrite } from '../cgroup/job-limits.ts';
import type { CgroupTree } from '../cgroup/tree.ts';
import { jobsParent } from '../cgroup/delegate.ts';
import { memoryCgroupPath, processesUnder, processIsUnder, processStartTime } from '../cgroup/members.ts';
import { readJobUsage } from '../cgroup/usage.ts';
import { PollLoop } from '../util/poll-loop.ts';
import { withDeadline } from '../util/wait.ts';
import { jobIdIn } from '../condor/scratch.ts';
import type { Logger } from '../log/logger.ts';
import { condorV2Controllers, type CondorCgroups } from './condor-cgroups.ts';
import type { PlacementAnswer, PlacementRequest } from './placement-server.ts';

/** The starter (and an ssh_to_job sshd) beside HTCondor's job cgroup in the slot's: not charged to the job. */
export const starterHeadroomBytes = 64 * 1048576;

export interface RunningJob {
  slot: string;
  /** Relative to the container's cgroup: jobs/slot1_1 */
  cgroup: string;
  starterPid: number;
  limits: JobLimits;
  placedAt: number;
  jobId?: string;
  /** Seen: the job's processes in this cgroup and in a PID namespace other than the agent's. */
  verified: boolean;
  /** A check is under way (the poll and the job wrapper's request can ask at the same moment). */
  checking?: boolean;
  /** Settles when the dynamic slot's limits are in place (or the partitionable slot's were kept). */
  sized?: Promise<void>;
  /** HTCondor's BASE_CGROUP for this starter, when its own cgroup code nests the job's cgroup in this one. */
  condorBase?: string;
  /** HTCondor logged that the kernel OOM-killed this job (its nested cgroup is gone before the agent can read it). */
  oomSeen?: boolean;
  /** Processes killed after the starter was gone. */
  leftoversKilled?: number;
  /** The cgroup's path as /proc/<pid>/cgroup names it (memory controller), to find processes a walk does not reach. */
  procPath?: string;
  /** The starter's start time: with its PID, the starter itself, not a later process handed the same PID. */
  starterStart?: string;
  /** Polls since the starter was found gone; after many, the job's cgroups are looked at less often. */
  afterStarter?: number;
}

/** Polls (250 ms each) of a job whose starter is gone before its cgroups are looked at only every `slowEvery`th. */
const leftoverPolls = { fast: 40, slowEvery: 120 } as const;

export interface JobCgroupOptions extends JobLimitOptions {
  /** HTCondor's EXECUTE: the starter writes its job ad to dir_<starter pid>/.job.ad there. */
  executeDir: string;
  pollMs: number;
  /** Jobs get their own PID namespaces: a job counts as started once it is seen in one (else once it is seen at all). */
  pidNamespaces?: boolean;
}

export interface JobCgroupsInput {
  tree: CgroupTree;
  /** The dynamic slot's size, asked of the startd. */
  resourcesOf: (slot: string) => Promise<{ cpus: number; memoryMiB: number }>;
  /** The partitionable slot's size: the limits used when the slot cannot be asked. */
  fallback: { cpus: number; memoryMiB: number };
  options: JobCgroupOptions;
  log: Logger;
  /** A job's cgroup was removed after its end; whether the kernel OOM-killed something in it. */
  onFinished?: (oomKilled: boolean, starterPid: number) => void;
  /** The dynamic slot's size if the agent already knows it (from StartLog): no question to the startd. */
  knownSize?: (slot: string) => Promise<{ cpus: number; memoryMiB: number } | undefined>;
  /** A starter was placed in its job's cgroup, after this long (the agent's first step of a job start). */
  onPlaced?: (placementMs: number) => void;
  /** Whether HTCondor's own cgroup code nests each job's cgroup in the agent's (prepareCondorCgroups). */
  condor?: CondorCgroups;
}

const jobIdOf = (executeDir: string, starterPid: number): Promise<string | undefined> => jobIdIn(join(executeDir, `dir_${starterPid}`));

/**
 * A process's namespace, read synchronously: a procfs link the kernel answers from the task, never blocking. The
 * agent's own namespaces are read once (it never changes them).
 */
const nsLink = (pid: number | 'self', ns: 'pid' | 'mnt'): string | undefined => {
  if (pid === 'self') return (ownNs[ns] ??= readNs(pid, ns));
  return readNs(pid, ns);
};
const ownNs: { pid?: string | undefined; mnt?: string | undefined } = {};
const readNs = (pid: number | 'self', ns: 'pid' | 'mnt'): string | undefined => {
  try {
    return readlinkSync(`/proc/${pid}/ns/${ns}`);
  } catch {
    return undefined;
  }
};

/**
 * One cgroup per running job under jobs/, limits from the job's slot, proof that the job is inside it and in its own
 * PID and mount namespaces, and the figures when it ends. Every decision and every cgroup write is here; the starter
 * wrapper only asks and waits.
 */
export class JobCgroups {
  private readonly jobs = new Map<string, RunningJob>();
  private readonly loop: PollLoop;

  private readonly tree: CgroupTree;
  private readonly resourcesOf: JobCgroupsInput['resourcesOf'];
  private readonly fallback: JobCgroupsInput['fallback'];
  private readonly options: JobCgroupOptions;
  private readonly log: Logger;
  private readonly onFinished: NonNullable<JobCgroupsInput['onFinished']>;
  private readonly knownSize: NonNullable<JobCgroupsInput['knownSize']>;
  private readonly onPlaced: NonNullable<JobCgroupsInput['onPlaced']>;
  private readonly condor: CondorCgroups;

  constructor(input: JobCgroupsInput) {
    this.tree = input.tree;
    this.resourcesOf = input.resourcesOf;
    this.fallback = input.fallback;
    this.options = input.options;
    this.log = input.log;
    this.onFinished = input.onFinished ?? (() => {});
    this.knownSize = input.knownSize ?? (async () => undefined);
    this.onPlaced = input.onPlaced ?? (() => {});
    this.condor = input.condor ?? { nested: false, reason: 'not asked' };
    this.loop = new PollLoop(() => this.poll(), this.options.pollMs);
  }

  get running(): RunningJob[] {
    return [...this.jobs.values()];
  }

  start(): void {
    this.loop.start();
  }

  /** Final sweep: jobs whose processes are gone are reported and their cgroups removed. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.poll();
  }

  /**
   * Confines a starter at once with its dynamic slot's limits when StartLog has told the agent the slot's size (the
   * usual case), else with the partitionable slot's: the starter waits only for a mkdir, a few writes and a move.
   * In the second case the agent then asks the startd for the dynamic slot's size and tightens the limits to it while
   * the starter fetches its job; the job wrapper's handshake waits for that before the job itself starts.
   */
  async place({ pid, slot }: PlacementRequest): Promise<PlacementAnswer> {
    const began = process.hrtime.bigint();
    let cgroup = posix.join(jobsParent, slot);
    let procPath: string | undefined;
    const [known, leftover] = await Promise.all([this.knownSize(slot).catch(() => undefined), this.tree.procsDeep(cgroup)]);
    const limits = this.limitsFor(known ?? this.fallback);
    if (this.jobs.has(cgroup) || leftover.length > 0) cgroup = `${cgroup}.${pid}`;
    const leaf = this.condor.nested ? this.condor.starterLeaf : undefined;
    const starterIn = leaf ? posix.join(cgroup, leaf) : cgroup;
    try {
      await this.tree.create(starterIn);
      await this.writeLimits(cgroup, limits);
      if (leaf) await this.tree.write('memory', cgroup, 'cgroup.subtree_control', condorV2Controllers.map((c) => `+${c}`).join(' '));
      await this.tree.move(starterIn, pid);
      // Through the thread pool: before Linux 6.7 reading /proc/<pid>/cgroup takes cgroup_mutex, which a concurrent move
      // into a cgroup holds through an RCU grace period (milliseconds); the event loop must not wait for that.
      const memberOf = await readFile(`/proc/${pid}/cgroup`, 'utf8');
      if (!memberOf.split('\n').some((line) => line.endsWith(`/${starterIn}`)))
        throw new Error(`pid ${pid} is not in ${starterIn} after the move`);
      const path = memoryCgroupPath(memberOf);
      procPath = path && leaf ? posix.dirname(path) : path;
    } catch (error) {
      await this.tree.removeDeep(cgroup).catch(() => undefined);
      this.log.error(
        { event: 'job-placement-failed', slot, pid, cgroup, error: (error as Error).message },
        `${slot}: cannot confine the starter; the job goes back to the queue`,
      );
      return { ok: false, reason: (error as Error).message };
    }
    const placementMs = Number(process.hrtime.bigint() - began) / 1e6;
    const job: RunningJob = { slot, cgroup, starterPid: pid, limits, placedAt: Date.now(), verified: false };
    if (procPath?.endsWith(`/${cgroup}`)) job.procPath = procPath;
    const started = await processStartTime(pid);
    if (started !== undefined) job.starterStart = started;
    if (this.condor.nested) job.condorBase = this.condor.base(cgroup);
    if (known) {
      job.sized = Promise.resolve();
      this.logPlaced(job, 'startd-log', placementMs, placementMs);
    } else job.sized = this.fitToSlot(job, began, placementMs);
    this.jobs.set(cgroup, job);
    return job.condorBase === undefined ? { ok: true } : { ok: true, condorCgroup: job.condorBase };
  }

  private limitsFor(size: { cpus: number; memoryMiB: number }) {
    return jobLimits(size, this.options, this.tree.version, this.condor.nested ? starterHeadroomBytes : 0);
  }

  /** The job wrapper named this starter's job (it works without PID namespaces too, where the check never succeeds). */
  noteJobId(starterPid: number, jobId: string): void {
    if (!jobId) return;
    for (const job of this.jobs.values()) if (job.starterPid === starterPid) job.jobId ??= jobId;
  }

  /** HTCondor's starter of this PID logged an OOM kill of its job (StarterLog.<slot>: "(pid:S) Process pid N was OOM killed"). */
  noteOomKill(starterPid: number): void {
    for (const job of this.jobs.values()) if (job.starterPid === starterPid) job.oomSeen = true;
  }

  /** The dynamic slot's own limits, replacing the partitionable slot's; on any failure the wider limits stay. */
  private async fitToSlot(job: RunningJob, began: bigint, placementMs: number): Promise<void> {
    let from: 'startd-query' | 'partitionable-slot' = 'startd-query';
    try {
      const limits = this.limitsFor(await this.resourcesOf(job.slot));
      await this.writeLimits(job.cgroup, limits);
      job.limits = limits;
    } catch (error) {
      from = 'partitionable-slot';
      this.log.warn(
        { event: 'job-slot-unknown', slot: job.slot, cgroup: job.cgroup, error: (error as Error).message, limits: job.limits },
        `${job.slot}: keeping the whole slot's limits`,
      );
    }
    this.logPlaced(job, from, placementMs, Number(process.hrtime.bigint() - began) / 1e6);
  }

  private logPlaced(job: RunningJob, limitsFrom: string, placementMs: number, limitsMs: number): void {
    const round = (x: number): number => Math.round(x * 10) / 10;
    this.log.info(
      {
        event: 'job-placed',
        slot: job.slot,
        cgroup: job.cgroup,
        starterPid: job.starterPid,
        limits: job.limits,
        limitsFrom,
        ...(job.condorBase === undefined ? {} : { htcondorBaseCgroup: job.condorBase }),
        placementMs: round(placementMs),
        limitsMs: round(limitsMs),
      },
      `${job.slot}: starter in ${job.cgroup}`,
    );
    this.onPlaced(placementMs);
  }

  /** Controllers side by side, each one's files in order (the CFS period before the quota that refers to it). */
  private async writeLimits(cgroup: string, limits: JobLimits): Promise<void> {
    const byController = new Map<string, LimitWrite[]>();
    for (const write of limitWrites(limits, this.tree.version))
      byController.set(write.controller, [...(byController.get(write.controller) ?? []), write]);
    await Promise.all(
      [...byController.values()].map(async (writes) => {
        for (const { controller, file, value } of writes) await this.tree.write(controller, cgroup, file, value);
      }),
    );
  }

  /**
   * The reason placement would fail now, or undefined: the jobs cgroup must be readable within `timeoutMs` (a
   * placement is a few such file operations; if they cannot finish, starters are refused).
   */
  async probe(timeoutMs = 2000): Promise<string | undefined> {
    const read = this.tree.procs(jobsParent).then(
      () => undefined,
      (error: unknown) => `placement cannot work: ${(error as Error).message}`,
    );
    return withDeadline(read, timeoutMs, () => `placement cannot work: reading the jobs cgroup took over ${timeoutMs} ms`);
  }

  /** Whether the agent placed this starter and its job has not finished. */
  hasStarter(pid: number): boolean {
    for (const job of this.jobs.values()) if (job.starterPid === pid) return true;
    return false;
  }

  /** The starter placed last for this slot (a slot's name comes back with each claim), or undefined. */
  starterOf(slot: string): number | undefined {
    let found: RunningJob | undefined;
    for (const job of this.jobs.values()) if (job.slot === slot && (!found || job.placedAt >= found.placedAt)) found = job;
    return found?.starterPid;
  }

  /** Settles when the starter's cgroup has its dynamic slot's limits (or kept the wider ones): the job may start. */
  async sized(starterPid: number): Promise<void> {
    for (const job of this.jobs.values()) if (job.starterPid === starterPid) await job.sized;
  }

  /** Looks at a starter's job now (the job wrapper said it is about to start), instead of at the next poll. */
  async checkStarter(starterPid: number): Promise<void> {
    for (const job of this.jobs.values()) if (job.starterPid === starterPid && !job.verified) await this.verify(job);
  }

  /** The starter this job was placed with still runs (the same PID and start time: PIDs are handed out again). */
  private async starterAlive(job: RunningJob): Promise<boolean> {
    const started = await processStartTime(job.starterPid);
    return started !== undefined && (job.starterStart === undefined || started === job.starterStart);
  }

  private async poll(): Promise<void> {
    for (const job of [...this.jobs.values()]) {
      try {
        // While the starter runs, the job's cgroups are walked only until the job is seen: their size is the job's to
        // choose, and what a poll costs must not be.
        if (await this.starterAlive(job)) {
          if (!job.verified) await this.verify(job, await this.tree.procsDeep(job.cgroup));
          continue;
        }
        job.afterStarter = (job.afterStarter ?? 0) + 1;
        if (job.afterStarter > leftoverPolls.fast && job.afterStarter % leftoverPolls.slowEvery !== 0) continue;
        if (job.afterStarter === leftoverPolls.fast + 1)
          this.log.warn(
            { event: 'job-cgroup-stuck', jobId: job.jobId, slot: job.slot, cgroup: job.cgroup, leftoversKilled: job.leftoversKilled ?? 0 },
            `${job.slot}: ${job.cgroup} still cannot be removed 10 s after its starter ended; trying every 30 s`,
          );
        // The starter is gone: whatever is still in the job's cgroups, at any depth, is left over.
        // /proc is scanned as well only when the walk stopped at its bound: a scan per job's end, over every process
        // of the container, cost more than all the rest of the agent's work for a short job.
        const { pids, complete } = await this.tree.procsWalk(job.cgroup);
        const left = job.procPath && !complete ? [...new Set([...pids, ...(await processesUnder(job.procPath))])] : pids;
        if (left.length === 0) await this.finish(job);
        else await this.killLeftovers(job, left);
      } catch (error) {
        this.log.warn(
          { event: 'job-cgroup-error', slot: job.slot, cgroup: job.cgroup, error: (error as Error).message },
          'job cgroup check failed',
        );
      }
    }
  }

  private async verify(job: RunningJob, known?: number[]): Promise<void> {
    if (job.checking || job.verified) return;
    job.checking = true;
    try {
      await this.verifyNow(job, known);
    } finally {
      job.checking = false;
    }
  }

  /**
   * The starter is gone but processes are still in the job's cgroups: whatever escaped HTCondor's own cleanup (a
   * daemon double-forked with a cleared environment, a process moved into a sub-cgroup of the job's, which HTCondor's
   * v1 kill does not reach). All of them are killed, the whole subtree at once where the kernel can (cgroup.kill, v2),
   * else each PID, again at every poll until the cgroup is empty.
   */
  private async killLeftovers(job: RunningJob, pids: number[]): Promise<void> {
    let killed = 0;
    const killFile = this.tree.version === 2 ? this.tree.path('memory', posix.join(job.cgroup, 'cgroup.kill')) : undefined;
    const atOnce = killFile
      ? await writeFile(killFile, '1').then(
          () => true,
          () => false,
        )
      : false;
    for (const pid of pids) {
      // Each PID is looked at again just before the kill: one that ended since the listing may be another's now.
      if (!atOnce && job.procPath && !(await processIsUnder(pid, job.procPath))) continue;
      try {
        if (!atOnce) process.kill(pid, 'SIGKILL');
        killed += 1;
      } catch {
        // already gone
      }
    }
    await this.thaw(job);
    const first = job.leftoversKilled === undefined;
    job.leftoversKilled = (job.leftoversKilled ?? 0) + killed;
    if (first)
      this.log.warn(
        { event: 'job-leftovers-killed', jobId: job.jobId, slot: job.slot, cgroup: job.cgroup, killed, pids: pids.slice(0, 20) },
        `${job.slot}: the starter is gone; ${killed} process(es) left in ${job.cgroup} killed`,
      );
  }

  /**
   * v1: a frozen process does not die of SIGKILL until it is thawed, and the job's user owns HTCondor's freezer cgroup
   * (and any it made under it): every freezer.state below the slot's cgroup is set THAWED after the kill.
   */
  private async thaw(job: RunningJob): Promise<void> {
    const root = this.tree.freezerRoot;
    if (!root) return;
    for (const dir of await this.tree.subtree(job.cgroup, root))
      await writeFile(posix.join(root, dir, 'freezer.state'), 'THAWED').catch(() => undefined);
  }

  private async verifyNow(job: RunningJob, known?: number[]): Promise<void> {
    const pids = known ?? (await this.tree.procsDeep(job.cgroup));
    const [ownPid, ownMnt] = [nsLink('self', 'pid'), nsLink('self', 'mnt')];
    const inJob: { pid: number; pidNs?: string; mntNs?: string }[] = [];
    for (const pid of pids) {
      if (pid === job.starterPid) continue;
      const [pidNs, mntNs] = [nsLink(pid, 'pid'), nsLink(pid, 'mnt')];
      inJob.push({ pid, ...(pidNs ? { pidNs } : {}), ...(mntNs ? { mntNs } : {}) });
    }
    // Without PID namespaces (--job-pid-namespaces false) the job's own processes are what is looked for.
    const isolated = this.options.pidNamespaces === false ? inJob : inJob.filter((p) => p.pidNs && p.pidNs !== ownPid);
    if (isolated.length === 0) return;
    job.verified = true;
    job.jobId ??= await jobIdOf(this.options.executeDir, job.starterPid);
    this.log.info(
      {
        event: 'job-started',
        jobId: job.jobId,
        slot: job.slot,
        cgroup: job.cgroup,
        limits: job.limits,
        processes: inJob.length,
        pidNamespace: isolated[0]?.pidNs,
        agentPidNamespace: ownPid,
        separateMountNamespace: isolated.some((p) => p.mntNs !== undefined && p.mntNs !== ownMnt),
      },
      `job ${job.jobId ?? '?'} started in ${job.cgroup}, own PID namespace`,
    );
  }

  private async finish(job: RunningJob): Promise<void> {
    await job.sized;
    job.jobId ??= await jobIdOf(this.options.executeDir, job.starterPid);
    const usage = await readJobUsage(this.tree, job.cgroup);
    let removed = true;
    try {
      await this.tree.removeDeep(job.cgroup);
    } catch {
      removed = false; // EBUSY while the kernel still tears the last task down: try again next poll
    }
    if (!removed) return;
    this.jobs.delete(job.cgroup);
    // On v1 an OOM kill inside HTCondor's nested cgroup is counted there, not in the slot's: HTCondor's log says it.
    const oomKilled = usage.oomKills > 0 || job.oomSeen === true;
    this.onFinished(oomKilled, job.starterPid);
    this.log.info(
      {
        event: 'job-finished',
        jobId: job.jobId,
        slot: job.slot,
        cgroup: job.cgroup,
        limits: job.limits,
        peakMemoryMiB: usage.peakMemoryBytes === undefined ? undefined : Math.round(usage.peakMemoryBytes / 1048576),
        cpuSeconds: usage.cpuSeconds === undefined ? undefined : Math.round(usage.cpuSeconds * 1000) / 1000,
        oomKilled,
        memoryLimitHits: usage.memoryLimitHits,
        durationS: Math.round((Date.now() - job.placedAt) / 100) / 10,
        isolationVerified: job.verified,
        ...(job.leftoversKilled === undefined ? {} : { leftoversKilled: job.leftoversKilled }),
      },
      `job ${job.jobId ?? '?'} finished in ${job.cgroup}${oomKilled ? ': killed by its memory limit' : ''}`,
    );
  }
}
