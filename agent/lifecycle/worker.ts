import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { AdminServer } from '../admin/server.ts';
import { JobStartSteps, type AgentStatus } from '../admin/status.ts';
import { ownSlotAds, type SlotAd } from '../condor/collector.ts';
import { condorLayout, type CondorLayout } from '../condor/layout.ts';
import type { JobStartServer } from '../condor/job-start.ts';
import { LogForwarder } from '../condor/log-forwarder.ts';
import { MasterProcess } from '../condor/master.ts';
import { closeExecuteDir } from '../condor/prepare.ts';
import { SlotSizes } from '../condor/slot-sizes.ts';
import type { SlotAccount } from '../condor/slot-users.ts';
import type { JobFirewall } from '../isolation/job-firewall.ts';
import { agentPaths, type AgentConfig } from '../config/options.ts';
import { CvmfsManager } from '../cvmfs/manager.ts';
import { HealthParts } from '../health/health-parts.ts';
import { AgentError, ExitCode, exitCodeFor } from '../errors.ts';
import type { EventHub } from '../events/hub.ts';
import type { IsolationPlan } from '../isolation/plan.ts';
import { startIsolation, type RunningIsolation } from '../isolation/start.ts';
import type { Logger } from '../log/logger.ts';
import { jobAttributes, machineAttributes, type Traceability } from '../metadata/traceability.ts';
import type { SlotResources } from '../resources/resources.ts';
import { exists } from '../util/files.ts';
import { RecentLines } from '../util/recent-lines.ts';
import type { Tally } from '../util/tally.ts';
import { waitFor, WaitTimeout } from '../util/wait.ts';
import { startAdminSide } from './admin-side.ts';
import { writeCondorConfig } from './condor-config.ts';
import { condorLogRouter } from './condor-log-routing.ts';
import { drain, startdDrainCondor, type DrainResult } from './drain.ts';
import { jobStartServer } from './job-start-reaction.ts';
import { prepareWorker } from './prepare.ts';
import { workerStatus } from './worker-status.ts';
import { IdleClock, watchIdle } from './idle.ts';
import { startTimers } from './lifetime.ts';
import { drainDeadline } from './drain-deadline.ts';
import { listenForStop } from './signals.ts';
import { StopController, type StopRequest } from './stop-request.ts';
import { MasterSupervisor } from './supervisor.ts';
import type { RunSummary } from './summary.ts';

/** What the configure phase decided, for HTCondor's configuration. */
interface Configured {
  plan: IsolationPlan;
  resources: SlotResources;
  name: string;
  attributes: Record<string, string>;
  jobAttrs: Record<string, string>;
  jobWrapper: string | undefined;
  slotAccounts: SlotAccount[];
}

/** The worker's own limits. */
const workerLimits = {
  /** After a failure, how long HTCondor may take to stop (at most --stop-timeout). */
  stopAfterFailureMs: 10_000,
  /** Without the startd's "Initial update sent" line, the collector is asked anyway this long after start. */
  initialUpdateHintMs: 10_000,
  /** How often the collector is asked for the slot ad once it is expected. */
  advertisedPollMs: 100,
} as const;

type Outcome<T> = { kind: 'advertised'; ads: T } | { kind: 'failed'; error: AgentError } | { kind: 'stop'; request: StopRequest };

/**
 * One worker node, from container start to exit, in explicit phases: configure (credentials, isolation, CVMFS,
 * resources: everything before HTCondor, side by side where independent), start HTCondor (configuration, log
 * forwarding, condor_master under supervision, the admin side), serve (until a stop request or a failure), drain
 * (jobs finish, or go back to the queue at the deadline) and stop. Each part it starts is a field, set by the phase
 * that starts it and closed by stop(), whichever phase the worker reached. What it knows of itself is `status`, read
 * by the admin API, the metrics and the fleet.
 */
export class Worker {
  readonly status: AgentStatus;
  private readonly startedAt = Date.now();
  private readonly layout: CondorLayout;
  private readonly instanceId = randomUUID();
  private readonly recent = new RecentLines();
  private readonly slotSizes = new SlotSizes();
  private readonly cvmfs: CvmfsManager;
  private readonly health: HealthParts;
  private readonly idle: IdleClock | undefined;
  private readonly stopper = new StopController();
  private readonly background = new AbortController();
  private readonly jobStartSteps = new JobStartSteps();
  private supervisor: MasterSupervisor | undefined;
  private forwarder: LogForwarder | undefined;
  private jobStarts: JobStartServer | undefined;
  private isolation: RunningIsolation | undefined;
  private admin: AdminServer | undefined;
  private firewall: JobFirewall | undefined;
  private authFailures: Tally | undefined;
  /** When the startd last logged "Initial update sent to collector(s)" (StartLog, default level). */
  private initialUpdateAt = 0;

  constructor(
    private readonly config: AgentConfig,
    private readonly log: Logger,
    private readonly trace: Traceability,
    private readonly hub: EventHub,
  ) {
    this.layout = condorLayout(config.stateDir);
    this.cvmfs = new CvmfsManager(config.cvmfs, join(agentPaths.runtimeDir, 'cvmfs.ad'), log);
    this.health = new HealthParts(config, agentPaths.runtimeDir, log, (end) => (this.status.counters.jobEnds[end.outcome] += 1));
    this.idle = config.idleTimeoutMs === undefined ? undefined : new IdleClock(config.idleTimeoutMs, this.startedAt);
    this.status = workerStatus({
      startedAt: this.startedAt,
      steps: this.jobStartSteps,
      layout: this.layout,
      cvmfs: this.cvmfs,
      health: this.health,
      idle: this.idle,
      isolation: () => this.isolation,
    });
  }

  /** The whole life: the summary is the last log line and carries the exit code. */
  async run(): Promise<RunSummary> {
    const { config, log } = this;
    const signals = listenForStop((signal, count) => {
      log.warn({ event: 'stop-repeated', signal, count }, 'another stop signal: the drain goes to its deadline now');
      this.stopper.hurry.abort();
    });
    void signals.first.then((signal) =>
      this.stopper.request({ reason: 'signal', signal, drainTimeoutMs: drainDeadline('signal', config) }),
    );
    try {
      const configured = await this.configure();
      const supervisor = await this.startCondor(configured);
      const request = await this.serve(supervisor);
      const drained = await this.drain(supervisor, request);
      this.status.state = 'stopping';
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
      this.status.state = 'stopping';
      if (this.supervisor && this.supervisor.current.state !== 'exited')
        await this.supervisor.stop(Math.min(config.stopTimeoutMs, workerLimits.stopAfterFailureMs));
      return this.summary({
        reason: 'error',
        exitCode: exitCodeFor(agentError),
        error: { code: agentError.code, message: agentError.message },
      });
    } finally {
      signals.dispose();
      await this.stopParts();
    }
  }

  /** Phase 1, on the cold-start path: everything before HTCondor, independent steps side by side. */
  private async configure(): Promise<Configured> {
    const { config, log, trace, layout } = this;
    const { plan, resources, name, slotAccounts, firewall } = await prepareWorker(config, layout, trace, log, this.instanceId);
    this.firewall = firewall;
    const jobAttrs = jobAttributes(trace);
    const jobWrapper = (await exists(agentPaths.jobWrapper)) ? agentPaths.jobWrapper : undefined;
    if (jobWrapper)
      this.jobStarts = jobStartServer({
        executeDir: layout.execute,
        attributes: jobAttrs,
        log,
        counters: this.status.counters,
        steps: this.jobStartSteps,
        idle: this.idle,
        isolation: () => this.isolation,
      });
    else
      log.warn(
        { event: 'job-attributes-disabled', wrapper: agentPaths.jobWrapper },
        'job wrapper not installed: job ads will not carry the container attributes',
      );

    const knownSize = async (slot: string): Promise<{ cpus: number; memoryMiB: number } | undefined> => {
      await this.forwarder?.flush('StartLog'); // StartLog to its end: the claim's "New dSlot" lines came before this activation
      return this.slotSizes.get(slot);
    };
    this.isolation = await startIsolation(
      plan,
      {
        config,
        layout,
        machineName: name,
        slot: resources,
        knownSize,
        onPlaced: (ms) => {
          this.jobStartSteps.observe('placement', ms);
          // The startd makes EXECUTE 0755 again whenever it starts (the master restarts a crashed one on its own).
          void closeExecuteDir(layout);
        },
      },
      log,
      (oomKilled, starterPid) => {
        this.jobStarts?.forget(starterPid);
        this.status.counters.jobsFinished += 1;
        if (oomKilled) this.status.counters.oomKills += 1;
      },
    );
    // Mounted before HTCondor starts: the first slot ad already says which repositories work.
    await this.cvmfs.start();
    // After CVMFS (a check may look at a repository), before HTCondor: a worker failing its checks never opens START.
    await this.health.start({ executeDir: layout.execute, machineName: name, running: () => this.isolation?.jobs.running ?? [] });
    return {
      plan,
      resources,
      name,
      attributes: { ...machineAttributes(trace), ...config.attributes },
      jobAttrs,
      jobWrapper,
      slotAccounts,
    };
  }

  /** Phase 2: HTCondor's configuration, its logs forwarded, condor_master supervised, then the admin side. */
  private async startCondor(configured: Configured): Promise<MasterSupervisor> {
    const { config, log, layout } = this;
    await writeCondorConfig({
      config,
      layout,
      log,
      instanceId: this.instanceId,
      ...configured,
      isolated: this.isolation !== undefined,
      condorCgroups: this.isolation?.condor.nested === true,
      cvmfsAdFile: this.cvmfs.configured ? this.cvmfs.adFile : undefined,
      healthAdFile: this.health.adFile,
    });

    this.forwarder = new LogForwarder(
      layout.log,
      condorLogRouter({
        log,
        recent: this.recent,
        slotSizes: this.slotSizes,
        health: this.health,
        onInitialUpdate: () => (this.initialUpdateAt = Date.now()),
        onOomKill: (starterPid) => this.isolation?.jobs.noteOomKill(starterPid),
        flush: () => this.forwarder?.flush() ?? Promise.resolve(),
      }),
    );
    await this.forwarder.start();

    this.supervisor = new MasterSupervisor({
      start: () =>
        new MasterProcess(layout.configFile, (line, stream) => {
          this.recent.push(`condor_master ${stream}: ${line}`);
          log.info({ source: 'condor', daemon: 'master', stream }, line);
        }),
      maxRestarts: config.masterRestarts,
      log,
      onRestarted: () => {
        this.status.masterRestarts += 1;
        this.status.advertised = false;
        this.waitAdvertised().then(
          (ads) => this.announce(ads),
          (error: unknown) =>
            log.error({ event: 'not-advertised', error: (error as Error).message }, 'the restarted startd did not appear in the collector'),
        );
      },
      recentLog: () => this.recent.all,
    });
    // Off the cold-start path, while HTCondor starts: no job and no claim can come before the slot is advertised.
    await Promise.all([this.jobStarts?.start(), this.startAdmin()]);
    return this.supervisor;
  }

  /** Phase 3: until the slot is advertised, then until a stop request; a master that fails for good ends it. */
  private async serve(supervisor: MasterSupervisor): Promise<StopRequest> {
    const { config, log, layout } = this;
    const advertised = this.waitAdvertised();
    const first = await this.nextOutcome(supervisor, advertised).catch((error: unknown) => {
      if (error instanceof WaitTimeout) {
        throw new AgentError(
          'WN_ERR_NOT_ADVERTISED',
          `the startd did not appear in the collector at ${config.condorHost} within --startup-timeout (WN_STARTUP_TIMEOUT) = ${config.startupTimeoutMs} ms`,
          {
            cause: error.lastError,
            details: { lastCondorStatusError: (error.lastError as Error | undefined)?.message, recentCondorLog: this.recent.all },
          },
        );
      }
      throw error;
    });
    advertised.catch(() => {}); // lost the race: nobody awaits it any more
    if (first.kind === 'failed') throw first.error;
    if (first.kind === 'advertised') {
      this.announce(first.ads);
      this.status.state = 'running';
      startTimers(config, this.stopper, log, this.background.signal);
      if (this.idle && config.idleTimeoutMs !== undefined)
        void watchIdle(this.idle, config.idleTimeoutMs, drainDeadline('idle', config), layout, this.stopper, log, this.background.signal);
    }
    const outcome = first.kind === 'stop' ? first : await this.nextOutcome(supervisor);
    if (outcome.kind === 'failed') throw outcome.error;
    return outcome.request;
  }

  /** Phase 4: no new jobs; running ones finish, or go back to the queue at the deadline. */
  private async drain(supervisor: MasterSupervisor, request: StopRequest): Promise<DrainResult | undefined> {
    const { log, layout } = this;
    this.status.state = 'draining';
    log.info(
      { event: 'stopping', reason: request.reason, signal: request.signal, drainTimeoutMs: request.drainTimeoutMs },
      `stopping (${request.reason})`,
    );
    if (!this.status.advertised || supervisor.current.state !== 'running') return undefined;
    this.status.drainDeadline = Date.now() + request.drainTimeoutMs;
    const drained = await drain({
      condor: startdDrainCondor(layout.configFile, layout.log),
      timeoutMs: request.drainTimeoutMs,
      hurry: this.stopper.hurry.signal,
      log,
    }).catch((error: unknown) => {
      log.error({ event: 'drain-failed', error: (error as Error).message }, 'drain failed; stopping HTCondor directly');
      return undefined;
    });
    this.status.counters.jobsVacated += drained?.vacated ?? 0;
    return drained;
  }

  /** Phase 5, whatever phase was reached: every part started is stopped, CVMFS last (no job reads /cvmfs any more). */
  private async stopParts(): Promise<void> {
    this.background.abort();
    await this.health.stop();
    await this.admin?.close();
    this.authFailures?.stop();
    await this.forwarder?.stop();
    await this.jobStarts?.stop();
    await this.isolation?.stop();
    await this.firewall?.remove();
    await this.cvmfs.stop();
  }

  private async startAdmin(): Promise<void> {
    const { config, log } = this;
    const side = await startAdminSide({
      config,
      log,
      hub: this.hub,
      status: this.status,
      revision: this.trace.imageRevision,
      onDrain: (timeoutMs) => {
        const drainTimeoutMs = drainDeadline('drain-request', config, timeoutMs);
        const answer = this.stopper.request({ reason: 'drain-request', drainTimeoutMs });
        log.info({ event: 'drain-requested', timeoutMs: drainTimeoutMs, answer }, 'drain requested through the admin API');
        return answer;
      },
    });
    this.admin = side.admin;
    this.authFailures = side.authFailures;
  }

  /**
   * Advertised = the collector holds our slot ad: the fact condor_status shows an operator. The collector is asked
   * once the startd has logged its initial update (instead of a condor_status process every 200 ms meanwhile); the
   * log line is a hint, never the proof: without it (another HTCondor version, a log that could not be read) the
   * collector is asked anyway once 10 s have passed.
   */
  private waitAdvertised(): Promise<SlotAd[]> {
    const since = Date.now();
    return waitFor<SlotAd[]>(
      async () => {
        if (this.initialUpdateAt < since && Date.now() - since < workerLimits.initialUpdateHintMs) return undefined;
        const ads = await ownSlotAds(this.layout.configFile, this.instanceId);
        return ads.length > 0 ? ads : undefined;
      },
      { timeoutMs: this.config.startupTimeoutMs, intervalMs: workerLimits.advertisedPollMs, what: 'startd ad in the collector' },
    );
  }

  private announce(ads: SlotAd[]): void {
    this.status.advertised = true;
    void closeExecuteDir(this.layout); // after the startd's own chmod at its start (again after a master restart)
    this.log.info(
      {
        event: 'startd-advertised',
        slots: ads.map((ad) => ad.name),
        elapsedMs: Date.now() - this.startedAt,
        masterRestarts: this.status.masterRestarts,
      },
      'startd advertised in the collector',
    );
  }

  /** What ends a phase: condor_master failing for good, a stop request, or (while starting) the slot being advertised. */
  private nextOutcome(supervisor: MasterSupervisor): Promise<Exclude<Outcome<never>, { kind: 'advertised' }>>;
  private nextOutcome<T>(supervisor: MasterSupervisor, advertised: Promise<T>): Promise<Outcome<T>>;
  private nextOutcome<T>(supervisor: MasterSupervisor, advertised?: Promise<T>): Promise<Outcome<T>> {
    return Promise.race([
      ...(advertised ? [advertised.then((ads): Outcome<T> => ({ kind: 'advertised', ads }))] : []),
      supervisor.failed.then((error): Outcome<T> => ({ kind: 'failed', error })),
      this.stopper.requested.then((request): Outcome<T> => ({ kind: 'stop', request })),
    ]);
  }

  private summary(partial: Omit<RunSummary, 'uptimeS' | 'jobsRun' | 'jobsVacated' | 'masterRestarts'>): RunSummary {
    return {
      ...partial,
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      jobsRun: this.status.counters.jobsStarted,
      jobsVacated: this.status.counters.jobsVacated,
      masterRestarts: this.status.masterRestarts,
    };
  }
}
