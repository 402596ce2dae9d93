/**
 * Runs `tick` every `intervalMs` after the previous tick finished (never two at once), until stopped.
 * stop() waits for a tick in progress, so the owner's final sweep never runs beside it. Safe to call twice.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly tick: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch(() => undefined) // each owner reports its own failures inside tick
        .finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }
}
