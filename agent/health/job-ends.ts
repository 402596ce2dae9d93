/** How a job ended, as its starter's log tells it. */
export interface JobEnd {
  starterPid: number;
  jobId: string | undefined;
  /**
   * success: the job exited 0. failure: it exited non-zero, was killed by a signal it did not ask for, or never
   * started (the starter ended without spawning it: a shadow exception, a broken wrapper or scratch). interrupted:
   * someone stopped it (a vacate, hold, removal or drain) or the kernel killed it over its own memory request: neither
   * says anything about the worker.
   */
  outcome: 'success' | 'failure' | 'interrupted';
  /** "exit 1", "signal 11", "did not start", "starter error: ...", "vacated", "OOM killed", "exit 0". */
  detail: string;
  /**
   * The failure is the worker's, whatever the job: the starter failed (an ERROR that ended it, the job requeued) or
   * ended without running the job. A non-zero exit or a signal may be the job's own doing: false.
   */
  workerFault: boolean;
  /** From the job's process start to its end, ms; 0 when it never started. */
  runtimeMs: number;
}

interface Starter {
  jobId?: string;
  jobPid?: number;
  spawnedAt?: number;
  exit?: string;
  exitedAt?: number;
  interrupted?: string;
  error?: string;
}

/** Starters followed at once at most: a starter whose end line is never read is forgotten, oldest first. */
const maxStarters = 4096;

const starterLine = /^\(pid:(\d+)\) (.*)$/;
const jobIdLine = /^Starting a \w+ universe job with ID: (\d+\.\d+)$/;
const spawnedLine = /^Create_Process succeeded, pid=(\d+)$/;
const exitedLine = /^Process exited, pid=(\d+), (status|signal)=(\d+)$/;
const stopLine = /^(ShutdownFast|ShutdownGraceful|Hold|Remove) all jobs/;
const oomLine = /^Process pid \d+ was OOM killed$/;
/** The starter's EXCEPT: it ends, and the shadow puts the job back in the queue. */
const errorLine = /^ERROR "(.*)" at line \d+ in file /;
/** The startd's StartLog when it reaps a starter; a starter's own log has no line of its end in every case. */
const reapedLine = /^Starter pid (\d+) (?:exited with status|died on signal) \d+/;
/** A starter error in a reason is cut at this many characters. */
const maxErrorChars = 200;

/**
 * Follows every starter through its log lines (StarterLog.slotN_M, each line "(pid:<starter>) ..."): the job's ID,
 * its process (the first Create_Process), its exit, whether someone stopped it or the starter failed. The startd's
 * "Starter pid N exited" in StartLog says the starter is gone (a starter that fails writes no end line of its own);
 * the job's end is then read with `finish`, once the starter's log has been read to its end. HTCondor 23 writes all
 * of these at its default log level.
 */
export class JobEndTracker {
  private readonly starters = new Map<number, Starter>();

  /** A StarterLog message (the part after the timestamp). */
  observe(message: string, now: number): void {
    const line = starterLine.exec(message);
    if (!line) return;
    const starterPid = Number(line[1]);
    const text = line[2] ?? '';
    let starter = this.starters.get(starterPid);
    if (!starter) {
      if (this.starters.size >= maxStarters) this.starters.delete(this.starters.keys().next().value as number);
      starter = {};
      this.starters.set(starterPid, starter);
    }
    let match: RegExpExecArray | null;
    if ((match = jobIdLine.exec(text))) starter.jobId = match[1];
    else if ((match = spawnedLine.exec(text))) {
      if (starter.jobPid === undefined) {
        starter.jobPid = Number(match[1]);
        starter.spawnedAt = now;
      }
    } else if ((match = exitedLine.exec(text))) {
      if (Number(match[1]) === starter.jobPid && starter.exit === undefined) {
        starter.exit = `${match[2] === 'status' ? 'exit' : 'signal'} ${match[3]}`;
        starter.exitedAt = now;
      }
    } else if ((match = stopLine.exec(text))) {
      // A stop asked before the job exited explains its end; one after it (the starter's own shutdown) does not.
      if (starter.exit === undefined) starter.interrupted ??= stopNames[match[1] ?? ''] ?? 'vacated';
    } else if (oomLine.test(text)) starter.interrupted = 'OOM killed';
    else if ((match = errorLine.exec(text)))
      starter.error ??= Array.from(match[1] ?? '')
        .slice(0, maxErrorChars)
        .join('');
  }

  /** A StartLog message: the starter's pid when it says the startd reaped a starter. */
  reaped(message: string): number | undefined {
    const match = reapedLine.exec(message);
    return match ? Number(match[1]) : undefined;
  }

  /** The end of the job a reaped starter ran; undefined for a starter none of whose lines were read. */
  finish(starterPid: number, now: number): JobEnd | undefined {
    const starter = this.starters.get(starterPid);
    if (!starter) return undefined;
    this.starters.delete(starterPid);
    return ended(starterPid, starter, now);
  }
}

const stopNames: Record<string, string> = { Hold: 'held', Remove: 'removed' };

function ended(starterPid: number, s: Starter, now: number): JobEnd {
  const runtimeMs = s.spawnedAt === undefined ? 0 : (s.exitedAt ?? now) - s.spawnedAt;
  const base = { starterPid, jobId: s.jobId, runtimeMs };
  if (s.interrupted) return { ...base, outcome: 'interrupted', detail: s.interrupted, workerFault: false };
  if (s.error !== undefined) return { ...base, outcome: 'failure', detail: `starter error: ${s.error}`, workerFault: true };
  if (s.exit === undefined)
    return {
      ...base,
      outcome: 'failure',
      detail: s.spawnedAt === undefined ? 'did not start' : 'starter ended before its job',
      workerFault: true,
    };
  return { ...base, outcome: s.exit === 'exit 0' ? 'success' : 'failure', detail: s.exit, workerFault: false };
}
