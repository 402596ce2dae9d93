import { join } from 'node:path';
import { ownSlotAds, type SlotAd } from '../condor/collector.ts';
import type { JobStartServer } from '../condor/job-start.ts';
import type { CondorLayout } from '../condor/layout.ts';
import { LogForwarder, type ForwardedLine } from '../condor/log-forwarder.ts';
import { MasterProcess } from '../condor/master.ts';
import { closeExecuteDir } from '../condor/prepare.ts';
import { agentPaths, type AgentConfig } from '../config/options.ts';
import { CvmfsManager } from '../cvmfs/manager.ts';
import type { EventHub } from '../events/hub.ts';
import { HealthParts } from '../health/health-parts.ts';
import type { JobEnd } from '../health/job-ends.ts';
import { startIsolation } from '../isolation/start.ts';
import type { Logger } from '../log/logger.ts';
import type { Traceability } from '../metadata/traceability.ts';
import { exists } from '../util/files.ts';
import { startAdminSide, type AdminSide } from './admin-side.ts';
import { writeCondorConfig } from './condor-config.ts';
import { drain, startdDrainCondor } from './drain.ts';
import { jobStartServer, type JobStartReaction } from './job-start-reaction.ts';
import { prepareWorker, type Prepared } from './prepare.ts';
import { MasterSupervisor, type SupervisorOptions } from './supervisor.ts';

type CondorConfigInputs = Parameters<typeof writeCondorConfig>[0];
type AdminSideOptions = Parameters<typeof startAdminSide>[0];
type DrainOptions = Parameters<typeof drain>[0];

/** The parts of HTCondor's supervision the worker's phases use. */
export type SupervisorPart = Pick<MasterSupervisor, 'failed' | 'stop'> & { readonly current: { readonly state: string } };
export type ForwarderPart = Pick<LogForwarder, 'start' | 'stop' | 'flush'>;
export type JobStartPart = Pick<JobStartServer, 'start' | 'stop' | 'forget' | 'prepare'>;
export type CvmfsPart = Pick<CvmfsManager, 'start' | 'stop' | 'configured' | 'adFile' | 'repos'>;
export type HealthPart = Pick<HealthParts, 'start' | 'stop' | 'adFile' | 'status' | 'starterLine' | 'reapedStarter' | 'jobEnded'>;
export type AdminPart = { admin: Pick<AdminSide['admin'], 'close'>; authFailures: Pick<AdminSide['authFailures'], 'stop'> };

/**
 * Everything a worker starts, made here and handed to its phases: the real parts in production, fakes in the
 * worker's unit tests (test/lifecycle/worker.test.ts), so that the worker's decisions (phase order, what is stopped
 * after which failure, exit codes, drain or not) are tested without HTCondor, cgroups or a container.
 */
export interface WorkerParts {
  /** Root check, directories, credentials, isolation plan, slot size, accounts, machine name, job firewall. */
  prepare(): Promise<Prepared>;
  /** The job wrapper that records every job's traceability attributes, when the image has it. */
  jobWrapper(): Promise<string | undefined>;
  jobStarts(reaction: Omit<JobStartReaction, 'executeDir'>): JobStartPart;
  isolation: typeof startIsolation;
  cvmfs: CvmfsPart;
  health: HealthPart;
  condorConfig(inputs: Omit<CondorConfigInputs, 'config' | 'layout' | 'log' | 'instanceId'>): Promise<void>;
  logForwarder(onLine: (line: ForwardedLine) => void): ForwarderPart;
  supervisor(options: Omit<SupervisorOptions, 'start'> & { onLine: (line: string, stream: string) => void }): SupervisorPart;
  admin(options: Omit<AdminSideOptions, 'config' | 'log' | 'hub'>): Promise<AdminPart>;
  /** This worker's slot ads in the collector (none yet: empty). */
  slotAds(): Promise<SlotAd[]>;
  drain(options: Omit<DrainOptions, 'condor' | 'log'>): ReturnType<typeof drain>;
  /** EXECUTE back to 0711: the startd makes it 0755 whenever it starts. */
  closeExecuteDir(): Promise<void>;
}

export interface WorkerContext {
  config: AgentConfig;
  log: Logger;
  trace: Traceability;
  hub: EventHub;
  layout: CondorLayout;
  instanceId: string;
  /** Each job's end as the health parts read it, once. */
  onJobEnd: (end: JobEnd) => void;
}

/** The real parts. */
export function realWorkerParts(context: WorkerContext): WorkerParts {
  const { config, log, trace, hub, layout, instanceId } = context;
  return {
    prepare: () => prepareWorker(config, layout, trace, log, instanceId),
    jobWrapper: async () => ((await exists(agentPaths.jobWrapper)) ? agentPaths.jobWrapper : undefined),
    jobStarts: (reaction) => jobStartServer({ ...reaction, executeDir: layout.execute }),
    isolation: startIsolation,
    cvmfs: new CvmfsManager(config.cvmfs, join(agentPaths.runtimeDir, 'cvmfs.ad'), log),
    health: new HealthParts(config, agentPaths.runtimeDir, log, context.onJobEnd),
    condorConfig: (inputs) => writeCondorConfig({ ...inputs, config, layout, log, instanceId }),
    logForwarder: (onLine) => new LogForwarder(layout.log, onLine),
    supervisor: ({ onLine, ...options }) => new MasterSupervisor({ ...options, start: () => new MasterProcess(layout.configFile, onLine) }),
    admin: (options) => startAdminSide({ ...options, config, log, hub }),
    slotAds: () => ownSlotAds(layout.configFile, instanceId),
    drain: (options) => drain({ ...options, condor: startdDrainCondor(layout.configFile, layout.log), log }),
    closeExecuteDir: () => closeExecuteDir(layout),
  };
}
