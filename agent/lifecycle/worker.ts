import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { hostInfoReader } from '../admin/host-info.ts';
import type { AdminServer } from '../admin/server.ts';
import { JobStartSteps, type AgentStatus } from '../admin/status.ts';
import { ownSlotAds, type SlotAd } from '../condor/collector.ts';
import { installCredentials } from '../condor/credentials.ts';
import { hideSecretSources, secretSources } from '../condor/hide-secrets.ts';
import { isCondorStarter, JobStartServer } from '../condor/job-start.ts';
import { condorLayout, type CondorLayout } from '../condor/layout.ts';
import { LogForwarder } from '../condor/log-forwarder.ts';
import { parseDaemonLogLine } from '../condor/log-line.ts';
import { MasterProcess } from '../condor/master.ts';
import { closeExecuteDir, listSiteConfig, prepareCondorDirs } from '../condor/prepare.ts';
import { renderCondorConfig } from '../condor/render-config.ts';
import { SlotSizes } from '../condor/slot-sizes.ts';
import { ensureSlotAccounts, slotUidBase, type SlotAccount } from '../condor/slot-users.ts';
import { installJobFirewall, type JobFirewall } from '../isolation/job-firewall.ts';
import { startdSlots } from '../condor/startd.ts';
import { agentPaths, type AgentConfig } from '../config/options.ts';
import { CvmfsManager } from '../cvmfs/manager.ts';
import { BlackHole } from '../health/black-hole.ts';
import { HealthChecks } from '../health/checks.ts';
import { ExecuteDiskWatch } from '../health/execute-disk.ts';
import { JobEndTracker, type JobEnd } from '../health/job-ends.ts';
import { WorkerHealth } from '../health/worker-health.ts';
import { AgentError, ExitCode, exitCodeFor } from '../errors.ts';
import type { EventHub } from '../events/hub.ts';
import { planIsolation, type IsolationPlan } from '../isolation/plan.ts';
import { startIsolation, type RunningIsolation } from '../isolation/start.ts';
import type { Logger } from '../log/logger.ts';
import { readImageMetadata } from '../metadata/image.ts';
import { machineName } from '../metadata/machine-name.ts';
import { jobAttributes, machineAttributes, type Traceability } from '../metadata/traceability.ts';
import { hasGpuDevices } from '../resources/gpus.ts';
import type { SlotResources } from '../resources/resources.ts';
import { slotResources } from '../resources/slot-resources.ts';
import { exists, writeFileAtomic } from '../util/files.ts';
import { persistentId } from '../util/persistent-id.ts';
import { Tally } from '../util/tally.ts';
import { RecentLines } from '../util/recent-lines.ts';
import { waitFor, WaitTimeout } from '../util/wait.ts';
import { agentVersion } from '../version.ts';
import { drain, startdDrainCondor, type DrainResult } from './drain.ts';
import { IdleClock, watchIdle } from './idle.ts';
import { jobsEndBy, startTimers } from './lifetime.ts';
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
  private readonly health: WorkerHealth;
  private readonly checks: HealthChecks | undefined;
  private readonly blackHole: BlackHole;
  private readonly jobEnds = new JobEndTracker();
  private disk: ExecuteDiskWatch | undefined;
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
    const { dir: healthDir, ...healthTimes } = config.healthCheck;
    this.health = new WorkerHealth(join(agentPaths.runtimeDir, 'health.ad'), log);
    this.checks = healthDir ? new HealthChecks({ dir: healthDir, ...healthTimes }, this.health, log) : undefined;
    this.blackHole = new BlackHole(config.blackHole, this.health, log);
    this.idle = config.idleTimeoutMs === undefined ? undefined : new IdleClock(config.idleTimeoutMs, this.startedAt);
    const layout = this.layout;
    this.status = {
      jobStartSteps: this.jobStartSteps,
      state: 'starting',
      startedAt: this.startedAt,
      advertised: false,
      masterRestarts: 0,
      counters: {
        jobsStarted: 0,
        jobsFinished: 0,
        oomKills: 0,
        jobsVacated: 0,
        adminAuthFailures: 0,
        jobEnds: { success: 0, failure: 0, interrupted: 0 },
      },
      cvmfs: () => this.cvmfs.repos.map(({ repo, required, healthy }) => ({ repo, required, healthy })),
      health: () => this.health.status(),
      // Parts started by later phases: empty until they run.
      jobs: () => this.isolation?.jobs.running ?? [],
      idleRemainingMs: () => this.idle?.remaining(Date.now()),
      slots: () => startdSlots(layout.configFile, layout.log).catch(() => []),
      placementCheck: async () => this.isolation?.jobs.probe(),
      host: hostInfoReader(layout.execute),
      jobMemoryBytes: async (cgroup) => {
        const tree = this.isolation?.tree;
        const text = await tree?.read('memory', cgroup, tree.version === 1 ? 'memory.usage_in_bytes' : 'memory.current');
        return text === undefined ? undefined : Number(text);
      },
    };
  }

  /** The whole life: the summary is the last log line and carries the exit code. */
  async run(): Promise<RunSummary> {
    const { config, log } = this;
    const signals = listenForStop((signal, count) => {
      log.warn({ event: 'stop-repeated', signal, count }, 'another stop signal: the drain goes to its deadline now');
      this.stopper.request({ reason: 'signal', signal, drainTimeoutMs: 0 });
    });
    void signals.first.then((signal) => this.stopper.request({ reason: 'signal', signal, drainTimeoutMs: config.drainTimeoutMs }));
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
      if (this.supervisor && this.supervisor.current.state !== 'exited') await this.supervisor.stop(Math.min(config.stopTimeoutMs, 10_000));
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
    log.info(
      {
        event: 'agent-starting',
        imageMetadata: await readImageMetadata(),
        scheduler: trace.scheduler,
        host: trace.host,
        hostname: trace.hostname,
        condorHost: config.condorHost,
        stateDir: config.stateDir,
        instanceId: this.instanceId,
        processUptimeMs: Math.round(process.uptime() * 1000),
      },
      'wn-agent starting',
    );
    // As any other user, HTCondor would run every job as that same user: the jobs could read the pool's credentials,
    // and the slot accounts, the covered mounts and the job cgroups could not be made.
    const uid = process.getuid?.();
    if (uid !== undefined && uid !== 0)
      throw new AgentError(
        'WN_ERR_CONFIG',
        `wn-agent run must run as root (uid 0), not uid ${uid}: as any other user HTCondor runs every job as that user, ` +
          'which can read the pool credentials. Run the container as root (unprivileged jobs get their own accounts)',
      );
    await prepareCondorDirs(layout);
    const [credentials, plan, resources] = await Promise.all([
      installCredentials(config, layout),
      planIsolation(config.jobIsolation),
      slotResources(config, trace),
    ]);
    // Before condor_master starts: every daemon, starter and job inherits this mount namespace without the originals.
    const hidden = await hideSecretSources(secretSources(config), {
      emptyFile: join(agentPaths.runtimeDir, 'empty'),
      keep: [
        config.siteConfigDir,
        config.stateDir,
        config.cvmfs.mountRoot,
        config.cvmfs.cacheBase,
        ...(config.healthCheck.dir ? [config.healthCheck.dir] : []),
      ],
    });
    log.info(
      { event: 'credentials-installed', poolPassword: credentials.poolPassword, tokens: credentials.tokens, hiddenFromJobs: hidden },
      'pool credentials installed; the mounted originals are hidden from jobs',
    );
    if (plan.problems.length > 0)
      log.warn(
        {
          event: 'isolation-degraded',
          mode: config.jobIsolation,
          cgroups: plan.cgroups,
          namespaces: plan.namespaces,
          problems: plan.problems,
        },
        'job isolation is incomplete',
      );
    log.info({ event: 'resources-decided', ...resources }, `slot: ${resources.cpus} CPUs, ${resources.memoryMiB} MiB`);
    const slotAccounts = await ensureSlotAccounts(Math.max(1, Math.ceil(resources.cpus)));
    log.info(
      { event: 'slot-users-ready', accounts: slotAccounts.accounts.length, created: slotAccounts.created },
      `jobs of slot1_N run as ${slotAccounts.accounts[0]?.name.replace(/1$/, 'N')}`,
    );
    // Before HTCondor starts: no job ever runs without it.
    const uids = { first: slotUidBase + 1, last: slotUidBase + slotAccounts.accounts.length };
    this.firewall = await installJobFirewall({ adminPort: config.adminListen?.port, uids }).then(
      (firewall) => {
        log.info({ event: 'job-firewall', refused: firewall.rules, uids }, 'jobs cannot reach the admin port or the metadata address');
        return firewall;
      },
      (error: unknown) => {
        log.warn(
          { event: 'job-firewall-off', error: (error as Error).message },
          'jobs can reach the admin port and the metadata address (no iptables or no CAP_NET_ADMIN)',
        );
        return undefined;
      },
    );

    const name = machineName(trace.hostname, {
      containerId: trace.containerId,
      taskId: trace.taskId,
      fallbackId: await persistentId(join(config.stateDir, 'agent-id')),
    });
    const jobAttrs = jobAttributes(trace);
    const jobWrapper = (await exists(agentPaths.jobWrapper)) ? agentPaths.jobWrapper : undefined;
    if (jobWrapper) this.jobStarts = this.jobStartServer(jobAttrs);
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
    await this.health.start();
    await this.checks?.start();
    this.disk = new ExecuteDiskWatch(
      {
        executeDir: layout.execute,
        minFree: config.minFreeDisk,
        intervalMs: 2000,
        machineName: name,
        running: () => this.isolation?.jobs.running ?? [],
      },
      this.health,
      log,
    );
    await this.disk.start();
    return {
      plan,
      resources,
      name,
      attributes: { ...machineAttributes(trace), ...config.attributes },
      jobAttrs,
      jobWrapper,
      slotAccounts: slotAccounts.accounts,
    };
  }

  /** Phase 2: HTCondor's configuration, its logs forwarded, condor_master supervised, then the admin side. */
  private async startCondor(c: Configured): Promise<MasterSupervisor> {
    const { config, log, layout } = this;
    const siteConfigFiles = await listSiteConfig(config.siteConfigDir);
    await writeFileAtomic(
      layout.configFile,
      renderCondorConfig({
        config,
        layout,
        instanceId: this.instanceId,
        siteConfigFiles,
        resources: c.resources,
        attributes: c.attributes,
        machineName: c.name,
        jobWrapper: c.jobWrapper,
        starterWrapper: this.isolation ? agentPaths.starterWrapper : undefined,
        namespaces: c.plan.namespaces,
        cvmfsAdFile: this.cvmfs.configured ? this.cvmfs.adFile : undefined,
        healthAdFile: this.health.adFile,
        gpus: await hasGpuDevices(),
        slotAccounts: c.slotAccounts,
        condorCgroups: this.isolation?.condor.nested === true,
        jobsEndBy: jobsEndBy(config, Date.now()),
      }),
    );
    log.info(
      {
        event: 'condor-config-rendered',
        file: layout.configFile,
        siteConfigFiles,
        machineName: c.name,
        machineAttributes: c.attributes,
        jobAttributes: c.jobWrapper ? Object.keys(c.jobAttrs) : [],
      },
      'HTCondor configuration written',
    );

    this.forwarder = new LogForwarder(layout.log, (entry) => {
      const parsed = parseDaemonLogLine(entry.line);
      if (entry.daemon === 'startd') {
        this.slotSizes.observe(parsed.msg);
        if (parsed.msg.startsWith('Initial update sent to collector')) this.initialUpdateAt = Date.now();
      }
      // HTCondor's own OOM detection, in its nested job cgroup (on v1 the kill is counted there, not in the slot's).
      const oom = entry.daemon === 'starter' ? /^\(pid:(\d+)\) Process pid \d+ was OOM killed$/.exec(parsed.msg) : null;
      if (oom) this.isolation?.jobs.noteOomKill(Number(oom[1]));
      if (entry.daemon === 'starter') this.jobEnds.observe(parsed.msg, Date.now());
      const reaped = entry.daemon === 'startd' ? this.jobEnds.reaped(parsed.msg) : undefined;
      // The starter's last lines were written before it exited, but may sit in a file not yet read: read every
      // log to its end, then judge the job.
      if (reaped !== undefined)
        void this.forwarder
          ?.flush()
          .catch(() => undefined)
          .then(() => {
            const end = this.jobEnds.finish(reaped, Date.now());
            if (end) this.jobEnded(end);
          });
      this.recent.push(`${entry.file}: ${entry.line}`);
      // The CVMFS and health cron jobs start every 2 s; their start lines are routine, kept at debug.
      const level = /^STARTD_CRON job WN(CVMFS|HEALTH) started/.test(parsed.msg) ? 'debug' : parsed.level;
      log[level]({ source: 'condor', daemon: entry.daemon, slot: entry.slot, condorTime: parsed.condorTime }, parsed.msg);
    });
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
  private async serve(sup: MasterSupervisor): Promise<StopRequest> {
    const { config, log, layout } = this;
    const advertised = this.waitAdvertised();
    const first = await this.nextOutcome(sup, advertised).catch((error: unknown) => {
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
        void watchIdle(this.idle, config.idleTimeoutMs, layout, this.stopper, log, this.background.signal);
    }
    const outcome = first.kind === 'stop' ? first : await this.nextOutcome(sup);
    if (outcome.kind === 'failed') throw outcome.error;
    return outcome.request;
  }

  /** Phase 4: no new jobs; running ones finish, or go back to the queue at the deadline. */
  private async drain(sup: MasterSupervisor, request: StopRequest): Promise<DrainResult | undefined> {
    const { log, layout } = this;
    this.status.state = 'draining';
    log.info(
      { event: 'stopping', reason: request.reason, signal: request.signal, drainTimeoutMs: request.drainTimeoutMs },
      `stopping (${request.reason})`,
    );
    if (!this.status.advertised || sup.current.state !== 'running') return undefined;
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
    this.blackHole.stop();
    await this.disk?.stop();
    await this.checks?.stop();
    await this.admin?.close();
    this.authFailures?.stop();
    await this.forwarder?.stop();
    await this.jobStarts?.stop();
    await this.isolation?.stop();
    await this.firewall?.remove();
    await this.cvmfs.stop();
  }

  /** A job's end as its starter logged it: counted by outcome, and seen by the black-hole detector. */
  private jobEnded(end: JobEnd): void {
    this.status.counters.jobEnds[end.outcome] += 1;
    this.log.debug({ event: 'job-ended', ...end }, `job ${end.jobId ?? '?'} ended: ${end.detail}`);
    this.blackHole.observe(end);
  }

  private jobStartServer(jobAttrs: Record<string, string>): JobStartServer {
    const { log, status } = this;
    return new JobStartServer({
      dir: join(agentPaths.runtimeDir, 'jobs'),
      executeDir: this.layout.execute,
      attributes: jobAttrs,
      onStart: (start) => {
        status.counters.jobsStarted += 1;
        this.idle?.observe(true, Date.now());
        this.isolation?.jobs.noteJobId(start.starterPid, start.jobId);
        void this.isolation?.jobs.checkStarter(start.starterPid);
        const slot = this.isolation?.jobs.running.find((job) => job.starterPid === start.starterPid)?.slot;
        const where = { jobId: start.jobId, ...(slot ? { slot } : {}), starterPid: start.starterPid };
        this.jobStartSteps.observe('attributes', start.recordMs);
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
      isStarter: (pid) => (this.isolation ? this.isolation.jobs.hasStarter(pid) : isCondorStarter(pid)),
      // The job itself does not start before its cgroup fits its dynamic slot (placement answered the starter first).
      ready: async (starterPid) => this.isolation?.jobs.sized(starterPid),
    });
  }

  private async startAdmin(): Promise<void> {
    const { config, log } = this;
    // Imported here, after condor_master started: HTTP(S), the websocket and Prometheus' client (and the Node
    // modules they load) are not needed before the first slot ad, and loading them is CPU on every cold start.
    const [{ AdminServer }, { EventStream }, { createMetrics }] = await Promise.all([
      import('../admin/server.ts'),
      import('../admin/events-ws.ts'),
      import('../admin/metrics.ts'),
    ]);
    // Wrong tokens are counted (a metric) and logged at most once a minute: whoever tries them sets the pace.
    const authFailures = new Tally(60_000, (counts) =>
      log.warn({ event: 'admin-auth-failed', counts }, 'requests without the right admin token refused'),
    );
    this.authFailures = authFailures;
    const onAuthFailure = (where: 'v1' | 'events'): void => {
      this.status.counters.adminAuthFailures += 1;
      authFailures.count(where);
    };
    const events =
      config.adminToken && config.adminListen
        ? new EventStream(this.hub, {
            token: config.adminToken,
            maxClients: config.adminMaxClients,
            maxBufferedBytes: 1 << 20,
            heartbeatMs: 30_000,
            onAuthFailure,
          })
        : undefined;
    this.admin = new AdminServer({
      events,
      token: config.adminToken,
      tls: config.adminTls,
      listen: config.adminListen,
      socketPath: agentPaths.adminSocket,
      status: this.status,
      metrics: createMetrics(this.status, { version: agentVersion, revision: this.trace.imageRevision }),
      onAuthFailure,
      onDrain: (timeoutMs) => {
        const answer = this.stopper.request({ reason: 'drain-request', drainTimeoutMs: timeoutMs ?? config.drainTimeoutMs });
        log.info(
          { event: 'drain-requested', timeoutMs: timeoutMs ?? config.drainTimeoutMs, answer },
          'drain requested through the admin API',
        );
        return answer;
      },
    });
    await this.admin.start();
    log.info(
      {
        event: 'admin-listening',
        listen: config.adminListen,
        socket: agentPaths.adminSocket,
        port: this.admin.port,
        tls: config.adminTls !== undefined,
        eventStream: events !== undefined,
      },
      'health, readiness and metrics served',
    );
    if (!events)
      log.warn(
        { event: 'event-stream-off' },
        'no --admin-token (WN_ADMIN_TOKEN) or --admin-listen off: the event stream /v1/events is off',
      );
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
        if (this.initialUpdateAt < since && Date.now() - since < 10_000) return undefined;
        const ads = await ownSlotAds(this.layout.configFile, this.instanceId);
        return ads.length > 0 ? ads : undefined;
      },
      { timeoutMs: this.config.startupTimeoutMs, intervalMs: 100, what: 'startd ad in the collector' },
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
  private nextOutcome(sup: MasterSupervisor): Promise<Exclude<Outcome<never>, { kind: 'advertised' }>>;
  private nextOutcome<T>(sup: MasterSupervisor, advertised: Promise<T>): Promise<Outcome<T>>;
  private nextOutcome<T>(sup: MasterSupervisor, advertised?: Promise<T>): Promise<Outcome<T>> {
    return Promise.race([
      ...(advertised ? [advertised.then((ads): Outcome<T> => ({ kind: 'advertised', ads }))] : []),
      sup.failed.then((error): Outcome<T> => ({ kind: 'failed', error })),
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
