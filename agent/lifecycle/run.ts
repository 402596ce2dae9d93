import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { discoverCgroups } from '../cgroup/discover.ts';
import { readContainerLimits } from '../cgroup/limits.ts';
import { hostFacts } from '../condor/host-facts.ts';
import { JobReportWatcher, writeJobAttributes } from '../condor/job-reports.ts';
import { decideResources, type SlotResources } from '../condor/resources.ts';
import { machineName } from '../metadata/machine-name.ts';
import { jobAttributes, machineAttributes, type Traceability } from '../metadata/traceability.ts';
import { persistentId } from '../util/persistent-id.ts';
import { planIsolation } from '../isolation/plan.ts';
import { CvmfsManager } from '../cvmfs/manager.ts';
import { startIsolation, type RunningIsolation } from '../isolation/start.ts';
import { installCredentials } from '../condor/credentials.ts';
import { ownSlotAds, type SlotAd } from '../condor/collector.ts';
import { condorLayout } from '../condor/layout.ts';
import { LogForwarder } from '../condor/log-forwarder.ts';
import { parseDaemonLogLine } from '../condor/log-line.ts';
import { MasterProcess, type MasterExit } from '../condor/master.ts';
import { listSiteConfig, prepareCondorDirs, writeFileAtomic } from '../condor/prepare.ts';
import { renderCondorConfig } from '../condor/render-config.ts';
import { agentPaths, type AgentConfig } from '../config/options.ts';
import { AgentError, ExitCode, exitCodeFor } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { readImageMetadata } from '../metadata/image.ts';
import { waitFor, WaitTimeout } from '../util/wait.ts';
import { listenForStop } from './signals.ts';

export interface RunSummary {
  reason: 'signal' | 'error';
  exitCode: ExitCode;
  uptimeS: number;
  signal?: NodeJS.Signals;
  master?: MasterExit;
  error?: { code: string; message: string };
}

/** The last lines each daemon wrote, for error messages that show what HTCondor said. */
class RecentLines {
  private readonly lines: string[] = [];
  constructor(private readonly max = 20) {}
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }
  get all(): string[] {
    return [...this.lines];
  }
}

/**
 * `wn-agent run`: prepares HTCondor, starts condor_master, waits until the startd is in the collector, then serves
 * until a stop signal or the master's exit. Returns the process exit code; the summary is the last log line.
 */
async function slotResources(config: AgentConfig, trace: Traceability): Promise<SlotResources> {
  const limits = await discoverCgroups()
    .then(readContainerLimits)
    .catch(() => ({}));
  const needHost = (config.cpus === undefined && !trace.granted.cpus) || (config.memoryMiB === undefined && !trace.granted.memoryMiB);
  return decideResources({
    flags: { cpus: config.cpus, memoryMiB: config.memoryMiB },
    limits,
    granted: trace.granted,
    host: needHost ? await hostFacts() : { cpus: 1, memoryMiB: 1 },
    reservedMiB: config.reservedMemoryMiB,
  });
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

export async function runAgent(config: AgentConfig, log: Logger, trace: Traceability): Promise<RunSummary> {
  const startedAt = Date.now();
  const layout = condorLayout(config.stateDir);
  const instanceId = randomUUID();
  const recent = new RecentLines();
  let master: MasterProcess | undefined;
  let forwarder: LogForwarder | undefined;
  let reports: JobReportWatcher | undefined;
  let isolation: RunningIsolation | undefined;
  const cvmfs = new CvmfsManager(config.cvmfs, join(agentPaths.runtimeDir, 'cvmfs.ad'), log);
  const stop = listenForStop((signal, count) => {
    log.warn({ event: 'stop-repeated', signal, count }, 'second stop signal: fast shutdown of HTCondor');
    void master?.stopFast();
  });

  const summary = (partial: Omit<RunSummary, 'uptimeS'>): RunSummary => ({ ...partial, uptimeS: Math.round((Date.now() - startedAt) / 1000) });

  try {
    const image = await readImageMetadata();
    log.info(
      { event: 'agent-starting', imageMetadata: image, scheduler: trace.scheduler, host: trace.host, hostname: trace.hostname, condorHost: config.condorHost, stateDir: config.stateDir, instanceId },
      'wn-agent starting',
    );

    await prepareCondorDirs(layout);
    const credentials = await installCredentials(config, layout);
    log.info({ event: 'credentials-installed', poolPassword: credentials.poolPassword, tokens: credentials.tokens }, 'pool credentials installed');

    const plan = await planIsolation(config.jobIsolation);
    if (plan.problems.length > 0) log.warn({ event: 'isolation-degraded', mode: config.jobIsolation, cgroups: plan.cgroups, namespaces: plan.namespaces, problems: plan.problems }, 'job isolation is incomplete');
    const resources = await slotResources(config, trace);
    log.info({ event: 'resources-decided', ...resources }, `slot: ${resources.cpus} CPUs, ${resources.memoryMiB} MiB`);

    const name = machineName(trace.hostname, { containerId: trace.containerId, taskId: trace.taskId, fallbackId: await persistentId(join(config.stateDir, 'agent-id')) });
    const attributes = { ...machineAttributes(trace), ...config.attributes };
    const jobAttrs = jobAttributes(trace);
    const jobWrapper = (await exists(agentPaths.jobWrapper)) ? agentPaths.jobWrapper : undefined;
    if (jobWrapper) {
      await writeJobAttributes(agentPaths.runtimeDir, jobAttrs);
      reports = new JobReportWatcher(join(agentPaths.runtimeDir, 'job-reports'), (report) => {
        void isolation?.jobs.check(report.slot);
        if (report.failed.length === 0) log.info({ event: 'job-attributes-recorded', jobId: report.jobId, slot: report.slot }, `job ${report.jobId}: traceability attributes recorded`);
        else log.warn({ event: 'job-attributes-failed', jobId: report.jobId, slot: report.slot, failed: report.failed, error: report.error }, `job ${report.jobId} runs without ${report.failed.join(', ')}`);
      }, 250);
      reports.start();
    } else {
      log.warn({ event: 'job-attributes-disabled', wrapper: agentPaths.jobWrapper }, 'job wrapper not installed: job ads will not carry the container attributes');
    }

    isolation = await startIsolation(plan, { config, layout, machineName: name, slot: resources }, log);
    // Mounted before HTCondor starts: the first slot ad already says which repositories work.
    await cvmfs.start();

    const siteConfigFiles = await listSiteConfig(config.siteConfigDir);
    await writeFileAtomic(
      layout.configFile,
      renderCondorConfig({
        config, layout, instanceId, siteConfigFiles, resources, attributes, machineName: name, jobWrapper,
        starterWrapper: isolation ? agentPaths.starterWrapper : undefined,
        namespaces: plan.namespaces,
        cvmfsAdFile: cvmfs.configured ? join(agentPaths.runtimeDir, 'cvmfs.ad') : undefined,
      }),
    );
    log.info(
      { event: 'condor-config-rendered', file: layout.configFile, siteConfigFiles, machineName: name, machineAttributes: attributes, jobAttributes: jobWrapper ? Object.keys(jobAttrs) : [] },
      'HTCondor configuration written',
    );

    forwarder = new LogForwarder(layout.log, (entry) => {
      const parsed = parseDaemonLogLine(entry.line);
      recent.push(`${entry.file}: ${entry.line}`);
      // The CVMFS cron job starts every 2 s; its start lines are routine, kept at debug.
      const level = parsed.msg.startsWith('STARTD_CRON job WNCVMFS started') ? 'debug' : parsed.level;
      log[level]({ source: 'condor', daemon: entry.daemon, slot: entry.slot, condorTime: parsed.condorTime }, parsed.msg);
    });
    await forwarder.start();

    master = new MasterProcess(layout.configFile, (line, stream) => {
      recent.push(`condor_master ${stream}: ${line}`);
      log.info({ source: 'condor', daemon: 'master', stream }, line);
    });
    const current = master;
    log.info({ event: 'master-started', pid: current.pid }, 'condor_master started');

    // Advertised = the collector holds our slot ad: the fact condor_status shows an operator.
    const advertised = waitFor<SlotAd[]>(
      async () => {
        const ads = await ownSlotAds(layout.configFile, instanceId);
        return ads.length > 0 ? ads : undefined;
      },
      { timeoutMs: config.startupTimeoutMs, intervalMs: 500, what: 'startd ad in the collector' },
    );
    const first = await Promise.race([
      advertised.then((ads) => ({ kind: 'advertised' as const, ads })),
      current.exited.then((exit) => ({ kind: 'master-exited' as const, exit })),
      stop.first.then((signal) => ({ kind: 'signal' as const, signal })),
    ]).catch((error: unknown) => {
      if (error instanceof WaitTimeout) {
        throw new AgentError('WN_ERR_NOT_ADVERTISED', `the startd did not appear in the collector at ${config.condorHost} within --startup-timeout (WN_STARTUP_TIMEOUT) = ${config.startupTimeoutMs} ms`, {
          cause: error.lastError,
          details: { lastCondorStatusError: (error.lastError as Error | undefined)?.message, recentCondorLog: recent.all },
        });
      }
      throw error;
    });
    advertised.catch(() => {}); // lost the race: nobody awaits it any more

    if (first.kind === 'advertised') {
      log.info({ event: 'startd-advertised', slots: first.ads.map((ad) => ad.name), elapsedMs: Date.now() - startedAt }, 'startd advertised in the collector');
    }

    const outcome =
      first.kind === 'advertised'
        ? await Promise.race([
            current.exited.then((exit) => ({ kind: 'master-exited' as const, exit })),
            stop.first.then((signal) => ({ kind: 'signal' as const, signal })),
          ])
        : first;

    if (outcome.kind === 'signal') {
      log.info({ event: 'stopping', signal: outcome.signal, gracefulMs: config.stopTimeoutMs }, 'stop signal: shutting HTCondor down');
      const exit = await current.stop(config.stopTimeoutMs);
      log.info({ event: 'master-exited', ...exit }, 'condor_master stopped');
      return summary({ reason: 'signal', exitCode: ExitCode.ok, signal: outcome.signal, master: exit });
    }
    const exit = outcome.exit;
    throw new AgentError('WN_ERR_CONDOR_MASTER', `condor_master exited unexpectedly (code ${String(exit.code)}, signal ${String(exit.signal)})`, {
      details: { master: exit, recentCondorLog: recent.all },
    });
  } catch (error) {
    const agentError = error instanceof AgentError ? error : new AgentError('WN_ERR_INTERNAL', (error as Error).message ?? String(error), { cause: error });
    log.error({ event: 'agent-error', code: agentError.code, ...agentError.details, err: agentError.cause }, agentError.message);
    if (master && master.state !== 'exited') await master.stop(Math.min(config.stopTimeoutMs, 10_000));
    return summary({ reason: 'error', exitCode: exitCodeFor(agentError), error: { code: agentError.code, message: agentError.message } });
  } finally {
    stop.dispose();
    await forwarder?.stop();
    await reports?.stop();
    await isolation?.stop();
    await cvmfs.stop(); // after HTCondor: no job reads /cvmfs any more
  }
}
