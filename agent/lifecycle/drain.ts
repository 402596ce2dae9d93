import { join } from 'node:path';
import { busySlots, startdSlots } from '../condor/startd.ts';
import { condorPaths } from '../config/options.ts';
import { runCondorTool } from '../condor/tools.ts';
import type { Logger } from '../log/logger.ts';
import { delay } from '../util/wait.ts';

// Debian installs the administrative tools in sbin.
const condorOff = join(condorPaths.sbin, 'condor_off');

export interface DrainResult {
  /** Every job finished (or there was none) before the deadline. */
  completed: boolean;
  /** Jobs evicted back to the queue at the deadline. */
  vacated: number;
  waitedMs: number;
}

/** What the drain asks of HTCondor; the default is the real startd through its tools. */
export interface DrainCondor {
  /** condor_off -peaceful -startd: no new jobs, running ones may finish. */
  offPeaceful(): Promise<void>;
  /** Busy slots now, or 0 once the startd is gone. */
  busy(): Promise<number>;
  /** condor_vacate -fast: evict at once, back to the queue as idle. */
  vacateFast(): Promise<void>;
}

export function startdDrainCondor(configFile: string, logDir: string): DrainCondor {
  return {
    offPeaceful: async () => {
      await runCondorTool(condorOff, ['-peaceful', '-startd'], { configFile });
    },
    // A peaceful shutdown ends the startd when its last job ends: no answer then means no job.
    busy: async () => busySlots(await startdSlots(configFile, logDir)).length,
    vacateFast: async () => {
      await runCondorTool('condor_vacate', ['-fast'], { configFile });
    },
  };
}

export interface DrainOptions {
  condor: DrainCondor;
  timeoutMs: number;
  /** Aborted by a second stop signal: go to the deadline now. */
  hurry: AbortSignal;
  log: Logger;
  pollMs?: number;
}

/** The startd's busy slots, or 0 once the startd is gone (a peaceful shutdown ends it when its last job ends). */
async function busy(options: DrainOptions): Promise<number> {
  try {
    return await options.condor.busy();
  } catch {
    return 0;
  }
}

/** The drain's own limits. */
export const drainLimits = {
  /** How often the startd is asked how many slots still run a job. */
  pollMs: 1000,
  /** After the vacate, how long the slots may take to empty before HTCondor is stopped directly. */
  vacateWaitMs: 60_000,
  /** How often drain-progress is said while jobs run. */
  progressEveryMs: 10_000,
} as const;

/**
 * Peaceful drain: the startd takes no new jobs (condor_off -peaceful) and running jobs finish. At the deadline the
 * rest are vacated (condor_vacate -fast), so they return to the queue as idle jobs, not held and not lost.
 */
export async function drain(options: DrainOptions): Promise<DrainResult> {
  const { condor, timeoutMs, hurry, log, pollMs = drainLimits.pollMs } = options;
  const started = Date.now();
  const deadline = started + timeoutMs;
  await condor.offPeaceful();
  log.info({ event: 'drain-started', timeoutMs, running: await busy(options) }, 'draining: no new jobs, running jobs may finish');
  let lastReport = started;
  for (;;) {
    const running = await busy(options);
    if (running === 0) {
      log.info({ event: 'drain-completed', waitedMs: Date.now() - started }, 'drained: no job left running');
      return { completed: true, vacated: 0, waitedMs: Date.now() - started };
    }
    if (Date.now() >= deadline || hurry.aborted) {
      log.warn(
        { event: 'drain-deadline', running, hurried: hurry.aborted },
        `drain deadline: vacating ${running} job(s) back to the queue`,
      );
      // A peaceful shutdown gives jobs unlimited retirement, and a graceful vacate honours it (observed: the slot stays
      // "Claimed Retiring"); a fast vacate evicts at once and the job goes back to the queue as idle.
      await condor.vacateFast().catch((error: unknown) => {
        log.error(
          { event: 'vacate-failed', error: (error as Error).message },
          'condor_vacate -fast failed; HTCondor will be stopped directly',
        );
      });
      const vacateDeadline = Date.now() + drainLimits.vacateWaitMs;
      while (Date.now() < vacateDeadline && (await busy(options)) > 0) await delay(pollMs);
      return { completed: false, vacated: running, waitedMs: Date.now() - started };
    }
    if (Date.now() - lastReport >= drainLimits.progressEveryMs) {
      lastReport = Date.now();
      log.info({ event: 'drain-progress', running, remainingMs: deadline - Date.now() }, `draining: ${running} job(s) still running`);
    }
    await delay(Math.min(pollMs, Math.max(0, deadline - Date.now())), hurry);
  }
}
