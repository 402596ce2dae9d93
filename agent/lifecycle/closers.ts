import type { Logger } from '../log/logger.ts';

/**
 * What a worker has started, to be stopped whatever phase it reached: each part is added as it starts and stopped in
 * the reverse order (the last started depends on the earlier ones). A part that fails to stop is logged and the rest
 * are still stopped: a CVMFS mount or a firewall rule must not stay behind because the admin server would not close.
 */
export class Closers {
  private readonly parts: { name: string; close: () => Promise<void> | void }[] = [];

  constructor(private readonly log: Logger) {}

  add(name: string, close: () => Promise<void> | void): void {
    this.parts.push({ name, close });
  }

  /** The names of the parts still to stop, last started first. */
  get pending(): string[] {
    return this.parts.map((part) => part.name).reverse();
  }

  async closeAll(): Promise<void> {
    for (let part = this.parts.pop(); part; part = this.parts.pop()) {
      try {
        await part.close();
      } catch (error) {
        this.log.error({ event: 'stop-failed', part: part.name, error: (error as Error).message }, `${part.name} did not stop cleanly`);
      }
    }
  }
}
