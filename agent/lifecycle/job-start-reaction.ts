import { join } from 'node:path';
import type { AgentStatus, JobStartSteps } from '../admin/status.ts';
import { isCondorStarter, JobStartServer } from '../condor/job-start.ts';
import { agentPaths } from '../config/options.ts';
import type { RunningIsolation } from '../isolation/start.ts';
import type { Logger } from '../log/logger.ts';
import type { IdleClock } from './idle.ts';

export interface JobStartReaction {
  executeDir: string;
  /** The traceability attributes every job gets. */
  attributes: Record<string, string>;
  log: Logger;
  counters: AgentStatus['counters'];
  steps: JobStartSteps;
  idle: IdleClock | undefined;
  /** Job isolation, once it runs (undefined without it). */
  isolation: () => RunningIsolation | undefined;
}

/**
 * The job-start FIFO's server and what the worker does when a job wrapper says a job is starting: the job counts as
 * work (idle clock), its ID is tied to its cgroup, its traceability attributes are recorded (or their failure said).
 */
export function jobStartServer(reaction: JobStartReaction): JobStartServer {
  const { log, counters, steps, idle, isolation } = reaction;
  return new JobStartServer({
    dir: join(agentPaths.runtimeDir, 'jobs'),
    executeDir: reaction.executeDir,
    attributes: reaction.attributes,
    onStart: (start) => {
      counters.jobsStarted += 1;
      idle?.observe(true, Date.now());
      const jobs = isolation()?.jobs;
      jobs?.noteJobId(start.starterPid, start.jobId);
      void jobs?.checkStarter(start.starterPid);
      const slot = jobs?.running.find((job) => job.starterPid === start.starterPid)?.slot;
      const where = { jobId: start.jobId, ...(slot ? { slot } : {}), starterPid: start.starterPid };
      steps.observe('attributes', start.recordMs);
      if (start.failed.length === 0)
        log.info(
          { event: 'job-attributes-recorded', ...where, recordMs: start.recordMs },
          `job ${start.jobId}: traceability attributes recorded`,
        );
      else
        log.warn(
          { event: 'job-attributes-failed', ...where, failed: start.failed, error: start.error },
          `job ${start.jobId} runs without ${start.failed.join(', ')}`,
        );
    },
    // Counts only, never the lines: jobs write them, and a flood must not fill the log or the event backlog.
    onDropped: (counts) =>
      log.warn({ event: 'job-requests-dropped', counts }, 'job start requests dropped (not from a job wrapper of this worker)'),
    onProblem: (message, details) => log.warn({ event: 'job-start-problem', ...details }, message),
    // With isolation the agent placed every starter itself: a synchronous answer, no file read per forged line.
    isStarter: (pid) => {
      const running = isolation();
      return running ? running.jobs.hasStarter(pid) : isCondorStarter(pid);
    },
    // The job itself does not start before its cgroup fits its dynamic slot (placement answered the starter first).
    ready: async (starterPid) => isolation()?.jobs.sized(starterPid),
  });
}
