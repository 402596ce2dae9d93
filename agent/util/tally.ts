/**
 * Counts things that someone else can cause at any rate (malformed requests from jobs) and reports them at most once
 * per interval: the first at once, the rest as counts when the interval ends. A flood of bad input then costs a
 * log line per interval, and cannot push real events out of the event backlog.
 */
export class Tally {
  private pending = new Map<string, number>();
  private readonly totals = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly report: (counts: Record<string, number>) => void,
  ) {}

  count(kind: string): void {
    this.totals.set(kind, (this.totals.get(kind) ?? 0) + 1);
    if (this.timer) {
      this.pending.set(kind, (this.pending.get(kind) ?? 0) + 1);
      return;
    }
    this.report({ [kind]: 1 });
    this.arm();
  }

  /** Every count since start, by kind (for metrics and status). */
  get total(): Record<string, number> {
    return Object.fromEntries(this.totals);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.flush()) this.arm(); // still busy: keep the pace
    }, this.intervalMs);
    this.timer.unref();
  }

  private flush(): boolean {
    if (this.pending.size === 0) return false;
    const counts = Object.fromEntries(this.pending);
    this.pending = new Map();
    this.report(counts);
    return true;
  }
}
