import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { MinFreeDisk } from '../config/options.ts';
import type { Logger } from '../log/logger.ts';
import { PollLoop } from '../util/poll-loop.ts';
import type { DiskHold } from './attributes.ts';
import { scratchUsage } from './scratch-usage.ts';
import type { WorkerHealth } from './worker-health.ts';

/** A running job as the execute-disk watch needs it: its dynamic slot and its starter (scratch dir_<starter pid>). */
export interface ScratchOwner {
  slot: string;
  starterPid: number;
  jobId?: string | undefined;
}

export interface ExecuteDiskOptions {
  executeDir: string;
  minFree: MinFreeDisk;
  intervalMs: number;
  /** The startd's NETWORK_HOSTNAME: a dynamic slot's Name is slot1_N@<this>. */
  machineName: string;
  running: () => readonly ScratchOwner[];
  /** The filesystem's size and the space an unprivileged writer may still use, bytes; statfs(2) unless given. */
  space?: (dir: string) => Promise<DiskSpace>;
}

export interface DiskSpace {
  totalBytes: number;
  freeBytes: number;
}

async function statfsSpace(dir: string): Promise<DiskSpace> {
  const fs = await statfs(dir);
  return { totalBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize };
}

/** The name this check has in WnUnhealthyReasons, /v1/status and the events. */
export const executeDiskCheck = 'execute-disk';

const MiB = 1048576;

export function minFreeBytes(minFree: MinFreeDisk, totalBytes: number): number {
  return 'mib' in minFree ? minFree.mib * MiB : Math.floor((totalBytes * minFree.percent) / 100);
}

/**
 * The execute filesystem's free space, every `intervalMs`. Below --min-free-disk no new job starts (WnHealthy false
 * with the reason) and the running job whose scratch directory holds the most is held by the startd (WANT_HOLD,
 * HoldReasonCode 21), so that one job filling the disk does not fail every job beside it. One hold at a time: the
 * next is chosen only once the held job's starter is gone and the disk is still short. A job holding less than 1 %
 * of the filesystem is not held: something else fills the disk, and holding it would free nothing.
 */
export class ExecuteDiskWatch {
  private readonly loop: PollLoop;
  private low = false;
  private held: (ScratchOwner & { bytes: number }) | undefined;

  constructor(
    private readonly options: ExecuteDiskOptions,
    private readonly health: WorkerHealth,
    private readonly log: Logger,
  ) {
    this.loop = new PollLoop(
      () =>
        this.tick().catch((error: unknown) =>
          log.error({ event: 'execute-disk-error', error: (error as Error).message }, 'execute disk check failed'),
        ),
      options.intervalMs,
    );
  }

  async start(): Promise<void> {
    await this.tick();
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  async tick(): Promise<void> {
    const started = Date.now();
    const { executeDir, minFree, running, space = statfsSpace } = this.options;
    const { totalBytes, freeBytes } = await space(executeDir);
    const needed = minFreeBytes(minFree, totalBytes);
    const jobs = running();
    if (this.held && !jobs.some((job) => job.starterPid === this.held?.starterPid)) {
      this.log.info({ event: 'execute-disk-hold-done', slot: this.held.slot, jobId: this.held.jobId }, 'the held job is gone');
      this.held = undefined;
      await this.health.setDiskHold(undefined);
    }
    if (freeBytes >= needed) {
      if (this.low) {
        this.low = false;
        await this.health.record(executeDiskCheck, { ok: true, durationMs: Date.now() - started });
      }
      return;
    }
    const reason = `${mib(freeBytes)} MiB free on the execute disk, below --min-free-disk ${mib(needed)} MiB`;
    if (!this.low) this.log.warn({ event: 'execute-disk-low', freeBytes, minFreeBytes: needed, totalBytes }, reason);
    this.low = true;
    await this.health.record(executeDiskCheck, { ok: false, reason, durationMs: Date.now() - started });
    if (this.held) return;
    const largest = await this.largestScratch(jobs);
    if (!largest || largest.bytes < totalBytes / 100) {
      this.log.warn(
        { event: 'execute-disk-no-hold', freeBytes, largestScratchBytes: largest?.bytes ?? 0, jobs: jobs.length },
        'the execute disk is short, but no job here holds much of it: no job is held',
      );
      return;
    }
    this.held = largest;
    const hold: DiskHold = {
      slot: `${largest.slot}@${this.options.machineName}`,
      reason:
        `The execute disk of ${this.options.machineName} is nearly full (${mib(freeBytes)} MiB free of ${mib(totalBytes)} MiB, ` +
        `--min-free-disk ${mib(needed)} MiB); this job's scratch directory held ${mib(largest.bytes)} MiB, the most of the ` +
        `${jobs.length} job${jobs.length === 1 ? '' : 's'} here.`,
    };
    await this.health.setDiskHold(hold);
    this.log.warn(
      {
        event: 'execute-disk-hold',
        slot: largest.slot,
        jobId: largest.jobId,
        starterPid: largest.starterPid,
        scratchBytes: largest.bytes,
        freeBytes,
        minFreeBytes: needed,
      },
      `job ${largest.jobId ?? '?'} in ${largest.slot} is held: its scratch fills the execute disk`,
    );
  }

  private async largestScratch(jobs: readonly ScratchOwner[]): Promise<(ScratchOwner & { bytes: number }) | undefined> {
    let largest: (ScratchOwner & { bytes: number }) | undefined;
    for (const job of jobs) {
      const { bytes } = await scratchUsage(join(this.options.executeDir, `dir_${job.starterPid}`));
      if (!largest || bytes > largest.bytes) largest = { ...job, bytes };
    }
    return largest;
  }
}

const mib = (bytes: number): number => Math.floor(bytes / MiB);
