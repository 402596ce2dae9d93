import { jobAttributes, machineAttributes } from '../../metadata/traceability.ts';
import { condorLogRouter } from '../condor-log-routing.ts';
import { drainDeadline } from '../drain-deadline.ts';
import type { ForwarderPart, JobStartPart, SupervisorPart } from '../worker-parts.ts';
import type { WorkerRun } from '../worker-run.ts';
import type { Configured } from './configure.ts';

/** After a failure, how long HTCondor may take to stop (at most --stop-timeout). */
export const stopAfterFailureMs = 10_000;

/** Phase 2's result: HTCondor running under supervision, its logs forwarded. */
export interface Started {
  supervisor: SupervisorPart;
  forwarder: ForwarderPart;
}

/**
 * Phase 2: HTCondor's configuration written, its logs forwarded, condor_master started under supervision, then (while
 * HTCondor starts: no job and no claim can come before the slot is advertised) the job-start server and the admin side.
 */
export async function startCondor(run: WorkerRun, configured: Configured, onRestarted: () => void): Promise<Started> {
  const { config, log, parts, closers, links, trace } = run;
  const { isolation, jobStarts } = configured;
  await parts.condorConfig({
    ...configured,
    attributes: { ...machineAttributes(trace), ...config.attributes },
    jobAttrs: jobAttributes(trace),
    isolated: isolation !== undefined,
    condorCgroups: isolation?.condor.nested === true,
    cvmfsAdFile: parts.cvmfs.configured ? parts.cvmfs.adFile : undefined,
    healthAdFile: parts.health.adFile,
  });
  const forwarder = parts.logForwarder(
    condorLogRouter({
      log,
      recent: run.recent,
      slotSizes: run.slotSizes,
      health: parts.health,
      onInitialUpdate: () => run.advertised.initialUpdate(),
      onOomKill: (starterPid) => isolation?.jobs.noteOomKill(starterPid),
      // The job's attributes recorded while its starter fetches the input, not while the job waits (placed starters
      // only). The slot's newest starter, and the one the line names when it names one: a line read late must not
      // prepare the slot's next starter before its Chirp server is up.
      onChirpReady: (slot, linePid) => {
        const starterPid = isolation?.jobs.starterOf(slot);
        if (starterPid !== undefined && (linePid === undefined || linePid === starterPid)) jobStarts?.prepare(starterPid);
      },
      flush: () => forwarder.flush(),
    }),
  );
  closers.add('log forwarder', () => forwarder.stop());
  await forwarder.start();
  links.forwarder = forwarder;

  const supervisor = parts.supervisor({
    onLine: (line, stream) => {
      run.recent.push(`condor_master ${stream}: ${line}`);
      log.info({ source: 'condor', daemon: 'master', stream }, line);
    },
    maxRestarts: config.masterRestarts,
    log,
    onRestarted,
    recentLog: () => run.recent.all,
  });
  // Stopped here only after a failure; a worker that served stops it with the whole --stop-timeout first.
  closers.add('condor_master', async () => {
    if (supervisor.current.state !== 'exited') await supervisor.stop(Math.min(config.stopTimeoutMs, stopAfterFailureMs));
  });
  await Promise.all([startJobStarts(run, jobStarts), startAdmin(run)]);
  return { supervisor, forwarder };
}

async function startJobStarts(run: WorkerRun, jobStarts: JobStartPart | undefined): Promise<void> {
  if (!jobStarts) return;
  run.closers.add('job-start server', () => jobStarts.stop());
  await jobStarts.start();
  run.links.jobStarts = jobStarts;
}

/** The admin side; a drain asked through it is a stop request like a signal, with its own deadline. */
async function startAdmin(run: WorkerRun): Promise<void> {
  const { config, log } = run;
  const side = await run.parts.admin({
    status: run.status,
    revision: run.trace.imageRevision,
    onDrain: (timeoutMs) => {
      const drainTimeoutMs = drainDeadline('drain-request', config, timeoutMs);
      const answer = run.stopper.request({ reason: 'drain-request', drainTimeoutMs });
      log.info({ event: 'drain-requested', timeoutMs: drainTimeoutMs, answer }, 'drain requested through the admin API');
      return answer;
    },
  });
  run.closers.add('admin', async () => {
    await side.admin.close();
    side.authFailures.stop();
  });
}
