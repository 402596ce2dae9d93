import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../log/logger.ts';
import { writeFileAtomic } from '../util/files.ts';
import { healthAd, type DiskHold } from './attributes.ts';
import type { CheckResult } from './run-check.ts';
import { HealthState, type HealthEvent, type HealthSnapshot } from './state.ts';

/**
 * The worker's health as the startd publishes it: the site's checks and the agent's own (execute disk, black hole)
 * in one state, one machine-ad fragment (a startd cron job cats it every 2 s; START requires WnHealthy =!= false)
 * and one set of events. The fragment is written before an event says what it holds.
 */
export class WorkerHealth {
  private readonly state = new HealthState();
  private published: string | undefined;
  private hold: DiskHold | undefined;
  /** One write at a time, in the order the results came. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly adFile: string,
    private readonly log: Logger,
  ) {}

  /** The first fragment (healthy, until a check says otherwise), before HTCondor starts. */
  async start(): Promise<void> {
    await mkdir(dirname(this.adFile), { recursive: true });
    await this.publish([]);
  }

  /** A check's result (the site's or the agent's own). */
  record(name: string, result: CheckResult): Promise<void> {
    return this.publish(this.state.record(name, result, Date.now()));
  }

  /** A round of the site's checks ended: the site's checks not in it are forgotten, the agent's own are kept. */
  endSiteRound(present: readonly string[]): Promise<void> {
    return this.publish(this.state.endRound(present));
  }

  /** The dynamic slot whose job the startd is to hold (WANT_HOLD), or undefined for none. */
  setDiskHold(hold: DiskHold | undefined): Promise<void> {
    this.hold = hold;
    return this.publish([]);
  }

  has(name: string): boolean {
    return this.state.has(name);
  }

  status(): HealthSnapshot {
    return this.state.snapshot();
  }

  private publish(events: HealthEvent[]): Promise<void> {
    const next = this.queue.then(async () => {
      const text = healthAd(this.state.reasons(), this.hold);
      if (text !== this.published) {
        await writeFileAtomic(this.adFile, text);
        this.published = text;
      }
      this.report(events);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private report(events: HealthEvent[]): void {
    const { log } = this;
    for (const fields of events) {
      switch (fields.event) {
        case 'health-check-failed':
          log.warn(fields, `health check ${fields.check} failed: ${fields.reason}`);
          break;
        case 'health-check-recovered':
          log.info(fields, `health check ${fields.check} passes again`);
          break;
        case 'worker-unhealthy':
          log.warn(fields, 'a health check fails: no new job starts here (running jobs go on)');
          break;
        case 'worker-healthy':
          log.info(fields, 'every health check passes: jobs may start here');
          break;
      }
    }
  }
}
