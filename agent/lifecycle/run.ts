import { randomUUID } from 'node:crypto';
import { agentVersion } from '../version.ts';
import { join } from 'node:path';
import { hostInfoReader } from '../admin/host-info.ts';
import { hasGpuDevices } from '../resources/gpus.ts';
import { SlotSizes } from '../condor/slot-sizes.ts';
import { isCondorStarter, JobStartServer } from '../condor/job-start.ts';
import { slotResources } from '../resources/slot-resources.ts';
import { machineName } from '../metadata/machine-name.ts';
import { jobAttributes, machineAttributes, type Traceability } from '../metadata/traceability.ts';
import { persistentId } from '../util/persistent-id.ts';
import { planIsolation } from '../isolation/plan.ts';
import { CvmfsManager } from '../cvmfs/manager.ts';
import { startIsolation, type RunningIsolation } from '../isolation/start.ts';
import { installCredentials } from '../condor/credentials.ts';
import { hideSecretSources, secretSources } from '../condor/hide-secrets.ts';
import { ownSlotAds, type SlotAd } from '../condor/collector.ts';
import { condorLayout } from '../condor/layout.ts';
import { LogForwarder } from '../condor/log-forwarder.ts';
import { parseDaemonLogLine } from '../condor/log-line.ts';
import { MasterProcess, type MasterExit } from '../condor/master.ts';
import type { AdminServer } from '../admin/server.ts';
import type { EventHub } from '../events/hub.ts';
import { JobStartSteps, type AgentStatus } from '../admin/status.ts';
import { startdSlots } from '../condor/startd.ts';
import { drain, startdDrainCondor, type DrainResult } from './drain.ts';
import { IdleClock, watchIdle } from './idle.ts';
import { startTimers } from './lifetime.ts';
import { StopController, type StopReason, type StopRequest } from './stop-request.ts';
import { MasterSupervisor } from './supervisor.ts';
import { listSiteConfig, prepareCondorDirs } from '../condor/prepare.ts';
import { exists, writeFileAtomic } from '../util/files.ts';
import { RecentLines } from '../util/recent-lines.ts';
import { renderCondorConfig } from '../condor/render-config.ts';
import { agentPaths, type AgentConfig } from '../config/options.ts';
import { AgentError, ExitCode, exitCodeFor } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { readImageMetadata } from '../metadata/image.ts';
import { waitFor, WaitTimeout } from '../util/wait.ts';
import { listenForStop } from './signals.ts';

export interface RunSummary {
  reason: StopReason | 'error';
  exitCode: ExitCode;
  uptimeS: number;
  jobsRun: number;
  jobsVacated: number;
  masterRestarts: number;
  signal?: NodeJS.Signals;
  master?: MasterExit;
  drain?: DrainResult;
  error?: { code: string; message: string };
}

/**
 * `wn-agent run`: prepares the container (credentials, cgroups, CVMFS, HTCondor configuration), supervises
 * condor_master, waits until the startd is in the collector, then serves until a stop request (signal, drain, idle,
 * lifetime) or a failure. The returned summary is the last log line and carries the exit code.
 */
export async function runAgent(config: AgentConfig, log: Logger, trace: Traceability, hub: EventHub): Promise<RunSummary> {
  const startedAt = Date.now();
  const layout = condorLayout(config.stateDir);
  const instanceId = randomUUID();
  const recent = new RecentLines();
  const slotSizes = new SlotSizes();
  let supervisor: MasterSupervisor | undefined;
  let forwarder: LogForwarder | undefined;
  let jobStarts: JobStartServer | undefined;
  let isolation: RunningIsolation | undefined;
  let admin: AdminServer | undefined;
  const cvmfs = new CvmfsManager(config.cvmfs, join(agentPaths.runtimeDir, 'cvmfs.ad'), log);
  const idle = config.idleTimeoutMs === undefined ? undefined : new IdleClock(config.idleTimeoutMs, startedAt);
  const stopper = new StopController();
  const background = new AbortController();
  const jobStartSteps = new JobStartSteps();
  const status: AgentStatus = {
    jobStartSteps,
    state: 'starting',
    startedAt,
    advertised: false,
    masterRestarts: 0,
    counters: { jobsStarted: 0, jobsFinished: 0, oomKills: 0, jobsVacated: 0 },
    cvmfs: () => cvmfs.repos.map(({ repo, required, healthy }) => ({ repo, required, healthy })),
    jobs: () => isolation?.jobs.running ?? [],
    idleRemainingMs: () => idle?.remaining(Date.now()),
    slots: () => startdSlots(layout.configFile, layout.log).catch(() => []),
    placementCheck: async () => isolation?.jobs.probe(),
    host: hostInfoReader(layout.execute),
    jobMemoryBytes: async (cgroup) => {
      const tree = isolation?.tree;
      const text = await tree?.read('memory', cgroup, tree.version === 1 ? 'memory.usage_in_bytes' : 'memory.current');
      return text === undefined ? undefined : Number(text);
    },
  };
  const signals = listenForStop((signal, count) => {
    log.warn({ event: 'stop-repeated', signal, count }, 'another stop signal: the drain goes to its deadline now');
    stopper.request({ reason: 'signal', signal, drainTimeoutMs: 0 });
  });
  void signals.first.then((signal) => stopper.request({ reason: 'signal', signal, drainTimeoutMs: config.drainTimeoutMs }));

  const summary = (partial: Omit<RunSummary, 'uptimeS' | 'jobsRun' | 'jobsVacated' | 'masterRestarts'>): RunSummary => ({
    ...partial,
    uptimeS: Math.round((Date.now() - startedAt) / 1000),
    jobsRun: status.counters.jobsStarted,
    jobsVacated: status.counters.jobsVacated,
    masterRestarts: status.masterRestarts,
  });

  try {
    const image = await readImageMetadata();
    log.info(
      {
        event: 'agent-starting',
        imageMetadata: image,
        scheduler: trace.scheduler,
        host: trace.host,
        hostname: trace.hostname,
        condorHost: config.condorHost,
        stateDir: config.stateDir,
        instanceId,
        processUptimeMs: Math.round(process.uptime() * 1000),
      },
      'wn-agent starting',
    );

    // Everything before condor_master starts is on the cold-start path: independent steps run side by side.
    await prepareCondorDirs(layout);
    const [credentials, plan, resources] = await Promise.all([
      installCredentials(config, layout),
      planIsolation(config.jobIsolation),
      slotResources(config, trace),
    ]);
    // Before condor_master starts: every daemon, starter and job inherits this mount namespace without the originals.
    const hidden = await hideSecretSources(secretSources(config), {
      emptyFile: join(agentPaths.runtimeDir, 'empty'),
      keep: [config.siteConfigDir, config.stateDir, config.cvmfs.mountRoot, config.cvmfs.cacheBase],
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

    const name = machineName(trace.hostname, {
      containerId: trace.containerId,
      taskId: trace.taskId,
      fallbackId: await persistentId(join(config.stateDir, 'agent-id')),
    });
    const attributes = { ...machineAttributes(trace), ...config.attributes };
    const jobAttrs = jobAttributes(trace);
    const jobWrapper = (await exists(agentPaths.jobWrapper)) ? agentPaths.jobWrapper : undefined;
    if (jobWrapper) {
      jobStarts = new JobStartServer({
        dir: join(agentPaths.runtimeDir, 'jobs'),
        executeDir: layout.execute,
        attributes: jobAttrs,
        onStart: (start) => {
          status.counters.jobsStarted += 1;
          idle?.observe(true, Date.now());
          void isolation?.jobs.checkStarter(start.starterPid);
          const slot = isolation?.jobs.running.find((job) => job.starterPid === start.starterPid)?.slot;
          const where = { jobId: start.jobId, ...(slot ? { slot } : {}), starterPid: start.starterPid };
          status.jobStartSteps?.observe('attributes', start.recordMs);
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
        isStarter: (pid) => (isolation ? isolation.jobs.hasStarter(pid) : isCondorStarter(pid)),
        // The job itself does not start before its cgroup fits its dynamic slot (placement answered the starter first).
        ready: async (starterPid) => isolation?.jobs.sized(starterPid),
      });
    } else {
      log.warn(
        { event: 'job-attributes-disabled', wrapper: agentPaths.jobWrapper },
        'job wrapper not installed: job ads will not carry the container attributes',
      );
    }

    const knownSize = async (slot: string): Promise<{ cpus: number; memoryMiB: number } | undefined> => {
      await forwarder?.flush('StartLog'); // StartLog to its end: the claim's "New dSlot" lines came before this activation
      return slotSizes.get(slot);
    };
    isolation = await startIsolation(
      plan,
      { config, layout, machineName: name, slot: resources, knownSize, onPlaced: (ms) => jobStartSteps.observe('placement', ms) },
      log,
      (oomKilled, starterPid) => {
        jobStarts?.forget(starterPid);
        status.counters.jobsFinished += 1;
        if (oomKilled) status.counters.oomKills += 1;
      },
    );
    // Mounted before HTCondor starts: the first slot ad already says which repositories work.
    await cvmfs.start();

    const startAdmin = async (): Promise<void> => {
      // Imported here, after condor_master started: HTTP(S), the websocket and Prometheus' client (and the Node
      // modules they load) are not needed before the first slot ad, and loading them is CPU on every cold start.
      const [{ AdminServer }, { EventStream }, { createMetrics }] = await Promise.all([
        import('../admin/server.ts'),
        import('../admin/events-ws.ts'),
        import('../admin/metrics.ts'),
      ]);
      const events =
        config.adminToken && config.adminListen
          ? new EventStream(hub, {
              token: config.adminToken,
              maxClients: config.adminMaxClients,
              maxBufferedBytes: 1 << 20,
              heartbeatMs: 30_000,
            })
          : undefined;
      admin = new AdminServer({
        events,
        token: config.adminToken,
        tls: config.adminTls,
        listen: config.adminListen,
        socketPath: agentPaths.adminSocket,
        status,
        metrics: createMetrics(status, { version: agentVersion, revision: trace.imageRevision }),
        onDrain: (timeoutMs) => {
          const answer = stopper.request({ reason: 'drain-request', drainTimeoutMs: timeoutMs ?? config.drainTimeoutMs });
          log.info(
            { event: 'drain-requested', timeoutMs: timeoutMs ?? config.drainTimeoutMs, answer },
            'drain requested through the admin API',
          );
          return answer;
        },
      });
      await admin.start();
      log.info(
        {
          event: 'admin-listening',
          listen: config.adminListen,
          socket: agentPaths.adminSocket,
          port: admin.port,
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
    };

    const siteConfigFiles = await listSiteConfig(config.siteConfigDir);
    await writeFileAtomic(
      layout.configFile,
      renderCondorConfig({
        config,
        layout,
        instanceId,
        siteConfigFiles,
        resources,
        attributes,
        machineName: name,
        jobWrapper,
        starterWrapper: isolation ? agentPaths.starterWrapper : undefined,
        namespaces: plan.namespaces,
        cvmfsAdFile: cvmfs.configured ? cvmfs.adFile : undefined,
        gpus: await hasGpuDevices(),
      }),
    );
    log.info(
      {
        event: 'condor-config-rendered',
        file: layout.configFile,
        siteConfigFiles,
        machineName: name,
        machineAttributes: attributes,
        jobAttributes: jobWrapper ? Object.keys(jobAttrs) : [],
      },
      'HTCondor configuration written',
    );

    // When the startd last said it sent its first ad ("Initial update sent to collector(s)", StartLog at the default
    // level): the collector is asked only from then on, instead of a condor_status process every 200 ms meanwhile.
    let initialUpdateAt = 0;
    forwarder = new LogForwarder(layout.log, (entry) => {
      const parsed = parseDaemonLogLine(entry.line);
      if (entry.daemon === 'startd') slotSizes.observe(parsed.msg);
      if (entry.daemon === 'startd' && parsed.msg.startsWith('Initial update sent to collector')) initialUpdateAt = Date.now();
      recent.push(`${entry.file}: ${entry.line}`);
      // The CVMFS cron job starts every 2 s; its start lines are routine, kept at debug.
      const level = parsed.msg.startsWith('STARTD_CRON job WNCVMFS started') ? 'debug' : parsed.level;
      log[level]({ source: 'condor', daemon: entry.daemon, slot: entry.slot, condorTime: parsed.condorTime }, parsed.msg);
    });
    await forwarder.start();

    // Advertised = the collector holds our slot ad: the fact condor_status shows an operator.
    // The log line is a hint, never the proof: without it (another HTCondor version, a log that could not be read)
    // the collector is asked anyway once 10 s have passed.
    const waitAdvertised = (): Promise<SlotAd[]> => {
      const since = Date.now();
      return waitFor<SlotAd[]>(
        async () => {
          if (initialUpdateAt < since && Date.now() - since < 10_000) return undefined;
          const ads = await ownSlotAds(layout.configFile, instanceId);
          return ads.length > 0 ? ads : undefined;
        },
        { timeoutMs: config.startupTimeoutMs, intervalMs: 100, what: 'startd ad in the collector' },
      );
    };
    const announce = (ads: SlotAd[]): void => {
      status.advertised = true;
      log.info(
        {
          event: 'startd-advertised',
          slots: ads.map((ad) => ad.name),
          elapsedMs: Date.now() - startedAt,
          masterRestarts: status.masterRestarts,
        },
        'startd advertised in the collector',
      );
    };
    const startMaster = (): MasterProcess =>
      new MasterProcess(layout.configFile, (line, stream) => {
        recent.push(`condor_master ${stream}: ${line}`);
        log.info({ source: 'condor', daemon: 'master', stream }, line);
      });
    supervisor = new MasterSupervisor({
      start: startMaster,
      maxRestarts: config.masterRestarts,
      log,
      onRestarted: () => {
        status.masterRestarts += 1;
        status.advertised = false;
        waitAdvertised().then(announce, (error: unknown) =>
          log.error({ event: 'not-advertised', error: (error as Error).message }, 'the restarted startd did not appear in the collector'),
        );
      },
      recentLog: () => recent.all,
    });
    const sup = supervisor;
    // Off the cold-start path, while HTCondor starts: no job and no claim can come before the slot is advertised.
    await Promise.all([jobStarts?.start(), startAdmin()]);

    const advertised = waitAdvertised();
    const first = await nextOutcome(sup, stopper, advertised).catch((error: unknown) => {
      if (error instanceof WaitTimeout) {
        throw new AgentError(
          'WN_ERR_NOT_ADVERTISED',
          `the startd did not appear in the collector at ${config.condorHost} within --startup-timeout (WN_STARTUP_TIMEOUT) = ${config.startupTimeoutMs} ms`,
          {
            cause: error.lastError,
            details: { lastCondorStatusError: (error.lastError as Error | undefined)?.message, recentCondorLog: recent.all },
          },
        );
      }
      throw error;
    });
    advertised.catch(() => {}); // lost the race: nobody awaits it any more
    if (first.kind === 'failed') throw first.error;
    if (first.kind === 'advertised') {
      announce(first.ads);
      status.state = 'running';
      startTimers(config, stopper, log, background.signal);
      if (idle && config.idleTimeoutMs !== undefined) void watchIdle(idle, config.idleTimeoutMs, layout, stopper, log, background.signal);
    }

    const outcome = first.kind === 'stop' ? first : await nextOutcome(sup, stopper);
    if (outcome.kind === 'failed') throw outcome.error;

    const request = outcome.request;
    status.state = 'draining';
    log.info(
      { event: 'stopping', reason: request.reason, signal: request.signal, drainTimeoutMs: request.drainTimeoutMs },
      `stopping (${request.reason})`,
    );
    let drained: DrainResult | undefined;
    if (status.advertised && sup.current.state === 'running') {
      status.drainDeadline = Date.now() + request.drainTimeoutMs;
      drained = await drain({
        condor: startdDrainCondor(layout.configFile, layout.log),
        timeoutMs: request.drainTimeoutMs,
        hurry: stopper.hurry.signal,
        log,
      }).catch((error: unknown) => {
        log.error({ event: 'drain-failed', error: (error as Error).message }, 'drain failed; stopping HTCondor directly');
        return undefined;
      });
      status.counters.jobsVacated += drained?.vacated ?? 0;
    }
    status.state = 'stopping';
    const exit = await sup.stop(config.stopTimeoutMs);
    log.info({ event: 'master-exited', ...exit }, 'condor_master stopped');
    const exitCode = drained && !drained.completed ? ExitCode.drainDeadline : ExitCode.ok;
    return summary({
      reason: request.reason,
      exitCode,
      master: exit,
      ...(request.signal ? { signal: request.signal } : {}),
      ...(drained ? { drain: drained } : {}),
    });
  } catch (error) {
    const agentError =
      error instanceof AgentError ? error : new AgentError('WN_ERR_INTERNAL', (error as Error).message ?? String(error), { cause: error });
    log.error({ event: 'agent-error', code: agentError.code, ...agentError.details, err: agentError.cause }, agentError.message);
    status.state = 'stopping';
    if (supervisor && supervisor.current.state !== 'exited') await supervisor.stop(Math.min(config.stopTimeoutMs, 10_000));
    return summary({ reason: 'error', exitCode: exitCodeFor(agentError), error: { code: agentError.code, message: agentError.message } });
  } finally {
    background.abort();
    signals.dispose();
    await admin?.close();
    await forwarder?.stop();
    await jobStarts?.stop();
    await isolation?.stop();
    await cvmfs.stop(); // after HTCondor: no job reads /cvmfs any more
  }
}

type Outcome<T> = { kind: 'advertised'; ads: T } | { kind: 'failed'; error: AgentError } | { kind: 'stop'; request: StopRequest };

/** What ends a phase: condor_master failing for good, a stop request, or (while starting) the slot being advertised. */
function nextOutcome(sup: MasterSupervisor, stopper: StopController): Promise<Exclude<Outcome<never>, { kind: 'advertised' }>>;
function nextOutcome<T>(sup: MasterSupervisor, stopper: StopController, advertised: Promise<T>): Promise<Outcome<T>>;
function nextOutcome<T>(sup: MasterSupervisor, stopper: StopController, advertised?: Promise<T>): Promise<Outcome<T>> {
  return Promise.race([
    ...(advertised ? [advertised.then((ads): Outcome<T> => ({ kind: 'advertised', ads }))] : []),
    sup.failed.then((error): Outcome<T> => ({ kind: 'failed', error })),
    stopper.requested.then((request): Outcome<T> => ({ kind: 'stop', request })),
  ]);
}
