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
