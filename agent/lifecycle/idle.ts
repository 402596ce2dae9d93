import { busySlots, startdSlots } from '../condor/startd.ts';
import type { Logger } from '../log/logger.ts';
import { delay } from '../util/wait.ts';
import type { StopController } from './stop-request.ts';

/**
 * When the worker has had no work for `timeoutMs`: counted from start if never busy, else from the moment the last
 * work ended. Pure: the caller reports what it observed and when.
 */
export class IdleClock {
  private idleSince: number;
  private busy = false;

  constructor(
    private readonly timeoutMs: number,
    startedAt: number,
  ) {
    this.idleSince = startedAt;
  }

  observe(busy: boolean, now: number): void {
    if (busy) this.busy = true;
    else if (this.busy) {
      this.busy = false;
      this.idleSince = now;
    }
  }

  /** Milliseconds of idleness left; undefined while busy. */
  remaining(now: number): number | undefined {
    return this.busy ? undefined : Math.max(0, this.idleSince + this.timeoutMs - now);
  }

  expired(now: number): boolean {
    return this.remaining(now) === 0;
  }
}

/**
 * Asks the startd whether any claim exists, every twentieth of --idle-timeout (2 s to 30 s: each ask is a
 * condor_status process, the agent's largest idle cost), and more often as the deadline nears. Jobs shorter than
 * that interval are not missed: every job start marks the clock busy directly (the job wrapper's request).
 * Idle for --idle-timeout ends the agent.
 */
export async function watchIdle(
  idle: IdleClock,
  timeoutMs: number,
  /** The drain an idle stop gets (drainDeadline('idle', ...)). */
  drainMs: number,
  layout: { configFile: string; log: string },
  stopper: StopController,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  const everyMs = Math.min(30_000, Math.max(2000, timeoutMs / 20));
  let announced = false;
  while (!signal.aborted && stopper.first === undefined) {
    try {
      const busy = busySlots(await startdSlots(layout.configFile, layout.log));
      idle.observe(busy.length > 0, Date.now());
      if (busy.length > 0) announced = false;
      else if (!announced) {
        announced = true;
        log.info({ event: 'idle', remainingMs: idle.remaining(Date.now()) }, 'no work: idle countdown running');
      }
      if (idle.expired(Date.now())) {
        log.info({ event: 'idle-timeout' }, 'idle for --idle-timeout: stopping');
        stopper.request({ reason: 'idle', drainTimeoutMs: drainMs });
        return;
      }
    } catch (error) {
      // The startd may be restarting with its master; the clock keeps its last state.
      log.debug({ event: 'idle-check-failed', error: (error as Error).message }, 'idle check failed');
    }
    await delay(Math.min(everyMs, Math.max(200, (idle.remaining(Date.now()) ?? everyMs) / 2)), signal);
  }
}
