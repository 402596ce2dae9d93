import type { SlotAd } from '../condor/collector.ts';
import { waitFor } from '../util/wait.ts';

export const advertisedLimits = {
  /** Without the startd's "Initial update sent" line, the collector is asked anyway this long after the wait began. */
  initialUpdateHintMs: 10_000,
  /** How often the collector is asked for the slot ad once it is expected. */
  pollMs: 100,
} as const;

/**
 * Advertised = the collector holds the worker's slot ad: the fact condor_status shows an operator. The collector is
 * asked once the startd has logged its initial update (instead of a condor_status process every 100 ms meanwhile);
 * the log line is a hint, never the proof: without it (another HTCondor version, a log that could not be read) the
 * collector is asked anyway once `initialUpdateHintMs` have passed.
 */
export class AdvertisedWatch {
  /** When the startd last logged "Initial update sent to collector(s)". */
  private initialUpdateAt = 0;

  constructor(
    private readonly slotAds: () => Promise<SlotAd[]>,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The startd's "Initial update sent to collector(s)" line was read. */
  initialUpdate(): void {
    this.initialUpdateAt = this.now();
  }

  /**
   * The worker's slot ads once the collector has them; WaitTimeout after `timeoutMs` (--startup-timeout). `signal`
   * ends the wait (the worker stops): no condor_status runs for a worker that is going away.
   */
  wait(signal?: AbortSignal): Promise<SlotAd[]> {
    const since = this.now();
    return waitFor<SlotAd[]>(
      async () => {
        if (this.initialUpdateAt < since && this.now() - since < advertisedLimits.initialUpdateHintMs) return undefined;
        const ads = await this.slotAds();
        return ads.length > 0 ? ads : undefined;
      },
      { timeoutMs: this.timeoutMs, intervalMs: advertisedLimits.pollMs, what: 'startd ad in the collector', signal },
    );
  }
}
