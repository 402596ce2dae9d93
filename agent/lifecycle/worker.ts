import { randomUUID } from 'node:crypto';
import { JobStartSteps } from '../admin/status.ts';
import { condorLayout } from '../condor/layout.ts';
import { SlotSizes } from '../condor/slot-sizes.ts';
import type { AgentConfig } from '../config/options.ts';
import { AgentError, ExitCode, exitCodeFor } from '../errors.ts';
import type { EventHub } from '../events/hub.ts';
import type { Logger } from '../log/logger.ts';
import type { Traceability } from '../metadata/traceability.ts';
import { RecentLines } from '../util/recent-lines.ts';
import { AdvertisedWatch } from './advertised.ts';
import { Closers } from './closers.ts';
import { drainDeadline } from './drain-deadline.ts';
import { IdleClock } from './idle.ts';
import { configure } from './phases/configure.ts';
import { drainPhase, readvertise, serve } from './phases/serve.ts';
import { startCondor } from './phases/start-condor.ts';
import { listenForStop } from './signals.ts';
import { StopController } from './stop-request.ts';
import type { RunSummary } from './summary.ts';
import { realWorkerParts, type WorkerContext, type WorkerParts } from './worker-parts.ts';
import type { WorkerRun } from './worker-run.ts';
import { workerStatus } from './worker-status.ts';

/**
 * One worker node, from container start to exit, in explicit phases (lifecycle/phases/): configure (credentials,
 * isolation, CVMFS, health: everything before HTCondor), start HTCondor (configuration, log forwarding, condor_master
 * under supervision, the admin side), serve (until a stop request or a failure), drain (jobs finish, or go back to the
 * queue at the deadline) and stop. Each phase returns what it started and registers it to be stopped, whichever phase
 * the worker reached. The parts come from a factory (worker-parts.ts): the real ones, or fakes in unit tests.
 */
export class Worker {
  private readonly shared: WorkerRun;
  private readonly background = new AbortController();

  constructor(
    config: AgentConfig,
    log: Logger,
    trace: Traceability,
    hub: EventHub,
    makeParts: (context: WorkerContext) => WorkerParts = realWorkerParts,
  ) {
    const startedAt = Date.now();
    const layout = condorLayout(config.stateDir);
    const steps = new JobStartSteps();
    const idle = config.idleTimeoutMs === undefined ? undefined : new IdleClock(config.idleTimeoutMs, startedAt);
    const links: WorkerRun['links'] = {};
    const parts = makeParts({
      config,
      log,
      trace,
      hub,
      layout,
      instanceId: randomUUID(),
      onJobEnd: (end) => (status.counters.jobEnds[end.outcome] += 1),
    });
    const status = workerStatus({
      startedAt,
      steps,
      layout,
      cvmfs: parts.cvmfs,
      health: parts.health,
      idle,
      isolation: () => links.isolation,
    });
    this.shared = {
      config,
      log,
      trace,
      layout,
      parts,
      status,
      startedAt,
      closers: new Closers(log),
      links,
      steps,
      slotSizes: new SlotSizes(),
      recent: new RecentLines(),
      stopper: new StopController(),
      advertised: new AdvertisedWatch(() => parts.slotAds(), config.startupTimeoutMs),
      idle,
      background: this.background.signal,
    };
  }

  /** What the worker knows of itself, read by the admin API, the metrics and the fleet. */
  get status(): WorkerRun['status'] {
    return this.shared.status;
  }

  /** The whole life: the summary is the last log line and carries the exit code. */
  async run(): Promise<RunSummary> {
    const run = this.shared;
    const { config, log, stopper, status } = run;
    const signals = listenForStop((signal, count) => {
      log.warn({ event: 'stop-repeated', signal, count }, 'another stop signal: the drain goes to its deadline now');
      stopper.hurry.abort();
    });
    void signals.first.then((signal) => stopper.request({ reason: 'signal', signal, drainTimeoutMs: drainDeadline('signal', config) }));
    try {
      const configured = await configure(run);
      const { supervisor } = await startCondor(run, configured, () => readvertise(run));
      const request = await serve(run, supervisor);
      const drained = await drainPhase(run, supervisor, request);
      status.state = 'stopping';
      const exit = await supervisor.stop(config.stopTimeoutMs);
      log.info({ event: 'master-exited', ...exit }, 'condor_master stopped');
      return this.summary({
        reason: request.reason,
        exitCode: drained && !drained.completed ? ExitCode.drainDeadline : ExitCode.ok,
        master: exit,
        ...(request.signal ? { signal: request.signal } : {}),
        ...(drained ? { drain: drained } : {}),
      });
    } catch (error) {
      const agentError =
        error instanceof AgentError
          ? error
          : new AgentError('WN_ERR_INTERNAL', (error as Error).message ?? String(error), { cause: error });
      log.error({ event: 'agent-error', code: agentError.code, ...agentError.details, err: agentError.cause }, agentError.message);
      status.state = 'stopping';
      return this.summary({
        reason: 'error',
        exitCode: exitCodeFor(agentError),
        error: { code: agentError.code, message: agentError.message },
      });
    } finally {
      signals.dispose();
      this.background.abort();
      await run.closers.closeAll(); // condor_master first when a failure left it running, CVMFS last
      status.state = 'exited';
    }
  }

  private summary(partial: Omit<RunSummary, 'uptimeS' | 'jobsRun' | 'jobsVacated' | 'masterRestarts'>): RunSummary {
    const { status, startedAt } = this.shared;
    return {
      ...partial,
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
      jobsRun: status.counters.jobsStarted,
      jobsVacated: status.counters.jobsVacated,
      masterRestarts: status.masterRestarts,
    };
  }
}
