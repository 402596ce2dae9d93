import { join } from 'node:path';
import type { AgentConfig } from '../config/options.ts';
import type { Logger } from '../log/logger.ts';
import { BlackHole } from './black-hole.ts';
import { HealthChecks } from './checks.ts';
import { ExecuteDiskWatch, type ScratchOwner } from './execute-disk.ts';
import { JobEndTracker, type JobEnd } from './job-ends.ts';
import type { HealthSnapshot } from './state.ts';
import { WorkerHealth } from './worker-health.ts';

/** How often the execute filesystem's free space is read: statfs is cheap, and a job can write fast. */
const executeDiskIntervalMs = 2000;

/**
 * The worker's health, whole: the published state (WorkerHealth), the site's checks, the execute-disk watch, and the
 * black-hole detector fed by every job's end read from HTCondor's logs. The worker starts it before HTCondor (a
 * worker failing its checks never opens START) and feeds it the starter and startd log lines.
 */
export class HealthParts {
  private readonly health: WorkerHealth;
  private readonly checks: HealthChecks | undefined;
  private readonly blackHole: BlackHole;
  private readonly jobEnds = new JobEndTracker();
  private disk: ExecuteDiskWatch | undefined;

  constructor(
    private readonly config: Pick<AgentConfig, 'healthCheck' | 'blackHole' | 'minFreeDisk'>,
    runtimeDir: string,
    private readonly log: Logger,
    /** Each job's end, once: counted by the worker's status. */
    private readonly onJobEnd: (end: JobEnd) => void,
  ) {
    const { dir, ...times } = config.healthCheck;
    this.health = new WorkerHealth(join(runtimeDir, 'health.ad'), log);
    this.checks = dir ? new HealthChecks({ dir, ...times }, this.health, log) : undefined;
    this.blackHole = new BlackHole(config.blackHole, this.health, log);
  }

  /** The machine-ad fragment the startd cron job publishes. */
  get adFile(): string {
    return this.health.adFile;
  }

  /** The first verdict (and the site's first round of checks) before HTCondor starts; then the execute disk. */
  async start(disk: { executeDir: string; machineName: string; running: () => readonly ScratchOwner[] }): Promise<void> {
    await this.health.start();
    await this.checks?.start();
    this.disk = new ExecuteDiskWatch(
      { ...disk, minFree: this.config.minFreeDisk, intervalMs: executeDiskIntervalMs },
      this.health,
      this.log,
    );
    await this.disk.start();
  }

  /** A StarterLog message (after its timestamp). */
  starterLine(message: string): void {
    this.jobEnds.observe(message, Date.now());
  }

  /** A StartLog message: the starter's pid when the startd says it reaped one (then call `jobEnded` once its log is read). */
  reapedStarter(message: string): number | undefined {
    return this.jobEnds.reaped(message);
  }

  /** The job a reaped starter ran has ended: counted, logged, seen by the black-hole detector. */
  jobEnded(starterPid: number): void {
    const end = this.jobEnds.finish(starterPid, Date.now());
    if (!end) return;
    this.onJobEnd(end);
    this.log.debug({ event: 'job-ended', ...end }, `job ${end.jobId ?? '?'} ended: ${end.detail}`);
    this.blackHole.observe(end);
  }

  status(): HealthSnapshot {
    return this.health.status();
  }

  async stop(): Promise<void> {
    this.blackHole.stop();
    await this.disk?.stop();
    await this.checks?.stop();
  }
}
