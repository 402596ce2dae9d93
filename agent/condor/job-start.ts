import { mkdir, chmod, readFile } from 'node:fs/promises';
import { lstat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { classAdString } from './classad.ts';
import { maxChirpConfigBytes, parseChirpConfig, setJobAttributesDelayed } from './chirp.ts';
import { jobIdFromAd, jobIdIn, maxJobAdBytes, readScratchFiles } from './scratch.ts';
import { answerFifo, FifoServer } from '../util/fifo-server.ts';
import { Limiter } from '../util/limiter.ts';
import { Tally } from '../util/tally.ts';
import { withDeadline } from '../util/wait.ts';

/** One job about to start, as the job wrapper (image/libexec/job-wrapper) announced it. */
export interface JobStart {
  /** "Cluster.Proc" from the job ad in the scratch directory, or "" when it could not be read. */
  jobId: string;
  /** The scratch directory is EXECUTE/dir_<starter pid>: the starter the placement handshake confined. */
  starterPid: number;
  /** Attribute names that could not be recorded. */
  failed: string[];
  error?: string;
  /** From the wrapper's request to the agent's answer: what the job waited for. */
  recordMs: number;
}

export const replyFifoName = '.wn-agent-reply';

/** Why a request from the job-start FIFO was not served; counted and reported once per interval, never echoed. */
export type DroppedRequest =
  | 'overlong' // longer than a request can be
  | 'malformed' // does not name EXECUTE/dir_<pid>
  | 'not-a-starter' // no starter of this worker has that PID
  | 'duplicate' // that starter's request is already served or being served
  | 'no-reply-fifo' // the scratch directory holds no reply FIFO: not from the job wrapper
  | 'busy'; // too many requests in flight

export interface JobStartOptions {
  /** The directory of the `requests` FIFO (every job user may write to it). */
  dir: string;
  /** HTCondor's EXECUTE. */
  executeDir: string;
  /** The traceability attributes, recorded in every job's ad. */
  attributes: Record<string, string>;
  onStart: (start: JobStart) => void;
  /** Dropped requests by reason, at most once per `reportIntervalMs` (the first one at once). */
  onDropped: (counts: Partial<Record<DroppedRequest, number>>) => void;
  onProblem: (message: string, details: Record<string, unknown>) => void;
  /**
   * Whether a condor_starter of this worker has this PID. Answered synchronously where the agent knows its starters
   * (it placed them): then a flood of forged requests costs no file operation at all.
   */
  isStarter: (pid: number) => boolean | Promise<boolean>;
  /** Resolves when the job may start as far as others are concerned (its cgroup limits fit its slot). */
  ready?: (starterPid: number) => Promise<void>;
  chirpTimeoutMs?: number;
  /** Every answer goes out within this after the request (jobStartLimits.answerWithinMs). */
  answerWithinMs?: number;
  /** Requests served at once; more wait in a short queue, beyond it they are dropped. */
  maxInFlight?: number;
  reportIntervalMs?: number;
}

/** What recording gave for one starter: the job's ID and the attributes Chirp did not take. */
interface Recorded {
  jobId: string | undefined;
  outcome: { failed: string[]; error?: string };
}

/** A starter's request: 'checking' until its reply FIFO is seen, then 'served' for the starter's life. */
interface Served {
  phase: 'checking' | 'served';
  /** A duplicate came while checking: check once more if the reply FIFO was not there yet. */
  again: boolean;
}

/** The job-start server's limits, in one place (each can be given per server, for tests). */
export const jobStartLimits = {
  /** Requests served at once; more are refused as busy. */
  maxInFlight: 16,
  /** Refused requests are said at most this often, with counts. */
  reportIntervalMs: 60_000,
  /** Starters remembered as served before the ones that are gone are pruned. */
  servedBeforePrune: 256,
  /** The whole Chirp exchange with a starter. */
  chirpTimeoutMs: 5000,
  /** Starters whose attributes were recorded ahead of their job wrapper's request, at most (one per running starter). */
  maxEarly: 1024,
  /**
   * Early recordings at once, at most; none waits. They are a head start only (the wrapper's request records when
   * there was none), and their reads share the two slots for reading job-owned files with the requests' own.
   */
  maxEarlyInFlight: 2,
  /** The job wrapper waits 10 s for its answer (image/libexec/job-wrapper): every answer goes out within this. */
  answerWithinMs: 8000,
  /** The deadline of reading the scratch directory's two files, kept free for a second recording. */
  readsMs: 2000,
} as const;

/**
 * Records the traceability attributes in every job's ad before the job runs. The job wrapper writes its scratch
 * directory into `requests` and waits on `<scratch>/.wn-agent-reply`; the agent reads the starter's chirp address
 * from the scratch directory, sets every attribute over one Chirp connection and answers. The agent tries to record
 * them earlier, when the starter's log says its Chirp server is up (prepare()): that exchange is answered before the
 * job's spawn when the job's input takes a while to arrive, and the wrapper's request then finds it done. The job
 * never waits more than `answerWithinMs`, and runs whatever the outcome (a failure is logged, never fatal to it).
 *
 * Every job can write to `requests`, so every line is untrusted: it is served only when it names the scratch
 * directory of a starter this worker runs, that holds the wrapper's reply FIFO, and only once per starter. What the
 * agent does for a starter is the same whoever asked, so a job that names another job's directory can neither answer
 * that job early (the answer waits for that job's own readiness), nor count a job start twice, nor hold it up.
 */
export class JobStartServer {
  private readonly fifo: FifoServer;
  /** A request names EXECUTE/dir_<starter pid>, nothing else. */
  private readonly scratchPattern: RegExp;
  /** The attributes as ClassAd string literals, as Chirp sends them. */
  private readonly ads: Record<string, string>;
  private readonly served = new Map<number, Served>();
  /** Recordings begun before the job wrapper asked (prepare()), by starter PID, until the wrapper asks or the starter is gone. */
  private readonly early = new Map<number, Promise<Recorded>>();
  private readonly limiter: Limiter;
  private readonly earlyLimiter = new Limiter(jobStartLimits.maxEarlyInFlight, 0);
  private readonly dropped: Tally;
  private pruning = false;

  constructor(private readonly options: JobStartOptions) {
    const { dir, executeDir, attributes } = options;
    this.fifo = new FifoServer(
      join(dir, 'requests'),
      (line) => this.onLine(line),
      0o622,
      () => this.drop('overlong'),
    );
    this.scratchPattern = new RegExp(`^${executeDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/dir_([1-9]\\d{0,9})$`);
    this.ads = Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, classAdString(value)]));
    this.limiter = new Limiter(options.maxInFlight ?? jobStartLimits.maxInFlight, options.maxInFlight ?? jobStartLimits.maxInFlight);
    this.dropped = new Tally(options.reportIntervalMs ?? jobStartLimits.reportIntervalMs, options.onDropped);
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Dropped requests since start, by reason. */
  get droppedTotal(): Record<string, number> {
    return this.dropped.total;
  }

  async start(): Promise<void> {
    // Every job user must reach requests: the directory and its parent (the agent's runtime directory) are 0755.
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    for (const dir of [dirname(this.dir), this.dir]) await chmod(dir, 0o755);
    await this.fifo.start();
  }

  async stop(): Promise<void> {
    await this.fifo.stop();
    this.dropped.stop();
  }

  /** The starter is gone: its PID may come back as another starter's. */
  forget(starterPid: number): void {
    this.served.delete(starterPid);
    this.early.delete(starterPid);
  }

  /**
   * This starter's Chirp server is up (its log said so, before it fetched the job's input): the attributes are recorded
   * now, so that the job wrapper's request later finds them recorded. Otherwise the job waits for a starter that is
   * busy spawning it (HTCondor makes the job's cgroups before its event loop answers Chirp again: ~10 ms). Only for a
   * starter this worker placed; the wrapper's request still decides that a job starts, and a recording that failed here
   * is done again then.
   */
  prepare(starterPid: number): void {
    if (this.early.has(starterPid) || this.served.has(starterPid) || this.early.size >= jobStartLimits.maxEarly) return;
    if (this.options.isStarter(starterPid) !== true) return;
    if (this.early.size > jobStartLimits.servedBeforePrune) void this.prune();
    const chirpTimeoutMs = this.options.chirpTimeoutMs ?? jobStartLimits.chirpTimeoutMs;
    const work = this.earlyLimiter.tryRun(() => this.record(join(this.options.executeDir, `dir_${starterPid}`), chirpTimeoutMs));
    if (work) this.early.set(starterPid, work);
  }

  /** Every attribute unrecorded, and why. */
  private allFailed(error: string): Recorded['outcome'] {
    return { failed: Object.keys(this.ads), error };
  }

  /** The job's ID (.job.ad) and the attributes over one Chirp connection (.chirp.config); never rejects. */
  private async record(scratch: string, chirpTimeoutMs: number): Promise<Recorded> {
    const failed = (error: unknown) => this.allFailed((error as Error).message);
    try {
      const [ad, chirp] = await readScratchFiles(
        scratch,
        [
          { name: '.job.ad', maxBytes: maxJobAdBytes },
          { name: '.chirp.config', maxBytes: maxChirpConfigBytes },
        ],
        jobStartLimits.readsMs,
      );
      const jobId = typeof ad === 'string' ? jobIdFromAd(ad) : undefined;
      if (typeof chirp !== 'string') return { jobId, outcome: failed(chirp) };
      const outcome = await setJobAttributesDelayed(parseChirpConfig(chirp), this.ads, chirpTimeoutMs).catch(failed);
      return { jobId, outcome };
    } catch (error) {
      return { jobId: undefined, outcome: failed(error) };
    }
  }

  /**
   * The early recording when it recorded every attribute (its job ID read again if that alone failed), else a
   * recording now; all of it before `answerBy`, so that the wrapper has its answer before it stops waiting (a
   * second exchange starts only with time left for the whole of it).
   */
  private async recorded(pid: number, scratch: string, answerBy: number): Promise<Recorded> {
    const early = this.early.get(pid);
    this.early.delete(pid);
    const late = (): Recorded => ({ jobId: undefined, outcome: this.allFailed('no answer in time') });
    const done = early && (await withDeadline(early, Math.max(0, answerBy - Date.now()), late));
    if (done && done.outcome.failed.length === 0) return done.jobId === undefined ? { ...done, jobId: await jobIdIn(scratch) } : done;
    const chirpTimeoutMs = Math.min(
      this.options.chirpTimeoutMs ?? jobStartLimits.chirpTimeoutMs,
      answerBy - Date.now() - jobStartLimits.readsMs,
    );
    if (done && chirpTimeoutMs < 500) return done; // no time left for a whole second exchange
    return this.record(scratch, Math.max(chirpTimeoutMs, 500));
  }

  /** Starters that are gone, where nobody said so with forget() (no isolation): their PIDs may come back. */
  private async prune(): Promise<void> {
    if (this.pruning) return;
    this.pruning = true;
    try {
      for (const [pid, entry] of [...this.served])
        if (entry.phase === 'served' && !(await this.options.isStarter(pid))) this.served.delete(pid);
      for (const pid of [...this.early.keys()]) if (!(await this.options.isStarter(pid))) this.early.delete(pid);
    } finally {
      this.pruning = false;
    }
  }

  private drop(reason: DroppedRequest): void {
    this.dropped.count(reason);
  }

  private onLine(line: string): void {
    // The wrapper writes "\n<scratch>\n": the leading newline ends whatever partial line a job left in the FIFO, so
    // that a job cannot glue its bytes to the next job's request. Empty lines are therefore routine.
    if (line === '') return;
    const pid = Number(this.scratchPattern.exec(line)?.[1] ?? 0);
    if (!pid) return this.drop('malformed');
    const known = this.served.get(pid);
    if (known) {
      if (known.phase === 'checking') known.again = true;
      return this.drop('duplicate');
    }
    const starter = this.options.isStarter(pid);
    if (starter === false) return this.drop('not-a-starter');
    const entry: Served = { phase: 'checking', again: false };
    this.served.set(pid, entry);
    if (this.served.size > jobStartLimits.servedBeforePrune || this.early.size > jobStartLimits.servedBeforePrune) void this.prune();
    const began = process.hrtime.bigint();
    const answerBy = Date.now() + (this.options.answerWithinMs ?? jobStartLimits.answerWithinMs);
    const work = this.limiter.tryRun(async () => {
      if (!(await starter)) {
        this.served.delete(pid);
        return this.drop('not-a-starter');
      }
      await this.serve(pid, line, entry, began, answerBy);
    });
    if (!work) {
      this.served.delete(pid);
      return this.drop('busy');
    }
    work.catch((error: unknown) => {
      this.served.delete(pid);
      this.options.onProblem('job start request failed', { starterPid: pid, error: (error as Error).message });
    });
  }

  private async serve(pid: number, scratch: string, entry: Served, began: bigint, answerBy: number): Promise<void> {
    // The wrapper makes its reply FIFO before it sends the request: without one, the request is not the wrapper's.
    for (;;) {
      entry.again = false;
      const reply = await lstat(join(scratch, replyFifoName)).catch(() => undefined);
      if (reply?.isFIFO()) break;
      if (!entry.again) {
        this.served.delete(pid);
        return this.drop('no-reply-fifo');
      }
    }
    entry.phase = 'served';
    const [{ jobId, outcome }] = await Promise.all([
      this.recorded(pid, scratch, answerBy),
      (this.options.ready?.(pid) ?? Promise.resolve()).catch(() => undefined),
    ]);
    const failedAnswer = await answerFifo(join(scratch, replyFifoName), 'ok\n');
    if (failedAnswer) this.options.onProblem('cannot answer the job wrapper', { starterPid: pid, code: failedAnswer });
    const recordMs = Math.round(Number(process.hrtime.bigint() - began) / 1e5) / 10;
    this.options.onStart({
      jobId: jobId ?? '',
      starterPid: pid,
      failed: outcome.failed,
      ...(outcome.error ? { error: outcome.error } : {}),
      recordMs,
    });
  }
}

/**
 * Whether a PID is a running condor_starter whose parent is a condor_startd, from /proc (used where the agent does
 * not place starters itself). A job can name a program condor_starter; it cannot make it the startd's child.
 */
export async function isCondorStarter(pid: number, proc = '/proc'): Promise<boolean> {
  const stat = await readFile(`${proc}/${pid}/stat`, 'utf8').catch(() => '');
  const prefix = `${pid} (condor_starter) `;
  if (!stat.startsWith(prefix)) return false;
  const ppid = Number(stat.slice(prefix.length).split(' ')[1]);
  if (!Number.isInteger(ppid) || ppid <= 1) return false;
  const parent = await readFile(`${proc}/${ppid}/stat`, 'utf8').catch(() => '');
  return parent.startsWith(`${ppid} (condor_startd) `);
}
