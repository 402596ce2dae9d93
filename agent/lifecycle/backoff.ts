/** Restart policy for condor_master: exponential backoff, and a limit of restarts within a window. */
export class RestartBudget {
  private readonly restarts: number[] = [];

  constructor(
    private readonly maxRestarts: number,
    private readonly windowMs: number,
    private readonly baseDelayMs = 1000,
    private readonly maxDelayMs = 30_000,
  ) {}

  /** The delay before the next restart, or undefined when the budget is spent. */
  next(now: number): number | undefined {
    while (this.restarts.length && (this.restarts[0] ?? 0) < now - this.windowMs) this.restarts.shift();
    if (this.restarts.length >= this.maxRestarts) return undefined;
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** this.restarts.length);
    this.restarts.push(now);
    return delay;
  }

  get used(): number {
    return this.restarts.length;
  }
}
