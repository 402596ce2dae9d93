import type { SlotAd } from '../../condor/collector.ts';
import { AgentError } from '../../errors.ts';
import { WaitTimeout } from '../../util/wait.ts';
import { drainDeadline } from '../drain-deadline.ts';
import type { DrainResult } from '../drain.ts';
import { watchIdle } from '../idle.ts';
import { startTimers } from '../lifetime.ts';
import type { StopRequest } from '../stop-request.ts';
import type { SupervisorPart } from '../worker-parts.ts';
import type { WorkerRun } from '../worker-run.ts';

type Outcome = { kind: 'advertised'; ads: SlotAd[] } | { kind: 'failed'; error: AgentError } | { kind: 'stop'; request: StopRequest };

/**
 * Phase 3: until the slot is advertised (then the lifetime and idle timers start), then until a stop request. A
 * master that fails for good, or a startd not in the collector within --startup-timeout, ends it with an error.
 */
export async function serve(run: WorkerRun, supervisor: SupervisorPart): Promise<StopRequest> {
  const { config, log } = run;
  const advertised = run.advertised.wait(run.background);
  advertised.catch(() => {}); // may lose the race: then nobody awaits it
  const first = await nextOutcome(run, supervisor, advertised).catch((error: unknown) => {
    if (!(error instanceof WaitTimeout)) throw error;
    throw new AgentError(
      'WN_ERR_NOT_ADVERTISED',
      `the startd did not appear in the collector at ${config.condorHost} within --startup-timeout (WN_STARTUP_TIMEOUT) = ${config.startupTimeoutMs} ms`,
      {
        cause: error.lastError,
        details: { lastCondorStatusError: (error.lastError as Error | undefined)?.message, recentCondorLog: run.recent.all },
      },
    );
  });
  if (first.kind === 'failed') throw first.error;
  if (first.kind === 'advertised') {
    announce(run, first.ads);
    run.status.state = 'running';
    startTimers(config, run.stopper, log, run.background);
    if (run.idle && config.idleTimeoutMs !== undefined)
      void watchIdle(run.idle, config.idleTimeoutMs, drainDeadline('idle', config), run.layout, run.stopper, log, run.background);
  }
  const outcome = first.kind === 'stop' ? first : await nextOutcome(run, supervisor);
  if (outcome.kind === 'failed') throw outcome.error;
  if (outcome.kind === 'advertised') throw new AgentError('WN_ERR_INTERNAL', 'the slot was advertised twice');
  return outcome.request;
}

/** Phase 4: no new jobs; running ones finish, or go back to the queue at the deadline. No drain before the first ad. */
export async function drainPhase(run: WorkerRun, supervisor: SupervisorPart, request: StopRequest): Promise<DrainResult | undefined> {
  const { log, status } = run;
  status.state = 'draining';
  log.info(
    { event: 'stopping', reason: request.reason, signal: request.signal, drainTimeoutMs: request.drainTimeoutMs },
    `stopping (${request.reason})`,
  );
  if (!status.advertised || supervisor.current.state !== 'running') return undefined;
  status.drainDeadline = Date.now() + request.drainTimeoutMs;
  const drained = await run.parts.drain({ timeoutMs: request.drainTimeoutMs, hurry: run.stopper.hurry.signal }).catch((error: unknown) => {
    log.error({ event: 'drain-failed', error: (error as Error).message }, 'drain failed; stopping HTCondor directly');
    return undefined;
  });
  status.counters.jobsVacated += drained?.vacated ?? 0;
  return drained;
}

/** condor_master was restarted: the startd must be seen in the collector again. */
export function readvertise(run: WorkerRun): void {
  run.status.masterRestarts += 1;
  run.status.advertised = false;
  run.advertised.wait(run.background).then(
    (ads) => announce(run, ads),
    (error: unknown) => {
      if (!run.background.aborted)
        run.log.error({ event: 'not-advertised', error: (error as Error).message }, 'the restarted startd did not appear in the collector');
    },
  );
}

function announce(run: WorkerRun, ads: SlotAd[]): void {
  run.status.advertised = true;
  void run.parts.closeExecuteDir(); // after the startd's own chmod at its start (again after a master restart)
  run.log.info(
    {
      event: 'startd-advertised',
      slots: ads.map((ad) => ad.name),
      elapsedMs: Date.now() - run.startedAt,
      masterRestarts: run.status.masterRestarts,
    },
    'startd advertised in the collector',
  );
}

/** What ends a phase: condor_master failing for good, a stop request, or (while starting) the slot being advertised. */
function nextOutcome(run: WorkerRun, supervisor: SupervisorPart, advertised?: Promise<SlotAd[]>): Promise<Outcome> {
  return Promise.race([
    ...(advertised ? [advertised.then((ads): Outcome => ({ kind: 'advertised', ads }))] : []),
    supervisor.failed.then((error): Outcome => ({ kind: 'failed', error })),
    run.stopper.requested.then((request): Outcome => ({ kind: 'stop', request })),
  ]);
}
