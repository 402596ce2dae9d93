/**
 * Runs `tick` every `intervalMs` after the previous tick finished (never two at once), until stopped. trigger() runs
 * a tick soon instead of at the next interval (an inotify event said there is something to see); triggers that
 * arrive during a tick run one more tick after it, never a pile of them. A trigger never postpones a tick that is
 * already due within `settleMs`: a steady stream of events (a busy daemon log) still gets a tick every `settleMs`.
 * stop() waits for a tick in progress, so the owner's final sweep never runs beside it. Safe to call twice.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  /** When the scheduled tick runs (ms since the epoch). */
  private dueAt = Infinity;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly tick: () => Promise<void>,
    private readonly intervalMs: number,
    /** How long trigger() waits, so that a burst of events costs one tick. */
    private readonly settleMs = 20,
  ) {}

  start(): void {
    this.schedule(this.intervalMs);
  }

  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.dueAt <= Date.now() + this.settleMs) return;
    this.schedule(this.settleMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.dueAt = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.dueAt = Infinity;
      this.running = this.tick()
        .catch(() => undefined) // each owner reports its own failures inside tick
        .finally(() => {
          this.running = undefined;
          const next = this.again ? this.settleMs : this.intervalMs;
          this.again = false;
          this.schedule(next);
        });
    }, ms);
    this.timer.unref();
  }
}
