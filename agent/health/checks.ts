import type { Logger } from '../log/logger.ts';
import { PollLoop } from '../util/poll-loop.ts';
import { listChecks, type CheckListing } from './check-dir.ts';
import { runCheck } from './run-check.ts';
import type { WorkerHealth } from './worker-health.ts';

export interface HealthChecksOptions {
  dir: string;
  intervalMs: number;
  timeoutMs: number;
}

/**
 * The whole environment of a check. The agent's own WN_* variables are gone from its environment by now, but the
 * scheduler's and the site's (anything a pod spec sets, secrets included) are not: a check gets none of them.
 */
export const checkEnvironment: Readonly<Record<string, string>> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/',
};

/**
 * The site's health checks: a round runs every check in the directory, one after another, at start (before HTCondor,
 * so that a worker failing its checks never opens START) and then `intervalMs` after the previous round ended, never
 * two rounds at once. The worker's health (published into the machine ad) follows each result as it comes.
 */
export class HealthChecks {
  private readonly loop: PollLoop;
  private readonly stopping = new AbortController();
  private listed = '';

  constructor(
    private readonly options: HealthChecksOptions,
    private readonly health: WorkerHealth,
    private readonly log: Logger,
  ) {
    this.loop = new PollLoop(
      () =>
        this.round().catch((error: unknown) =>
          log.error({ event: 'health-check-error', error: (error as Error).message }, 'health check round failed'),
        ),
      options.intervalMs,
    );
  }

  /** The first round, then the periodic ones. A fragment that cannot be written stops the start: START would stay open. */
  async start(): Promise<void> {
    await this.round();
    this.loop.start();
  }

  /** Kills a check under way and waits for its round to end. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop.stop();
  }

  private async round(): Promise<void> {
    const { dir, timeoutMs } = this.options;
    const { signal } = this.stopping;
    const listing = await listChecks(dir).catch((error: unknown) => error as NodeJS.ErrnoException);
    if (listing instanceof Error) {
      // The directory itself is the failing check: a worker whose checks cannot be found is not known to be healthy.
      const reason = `cannot list: ${listing.code ?? listing.message}`;
      await this.health.record(dir, { ok: false, reason, durationMs: 0 });
      return this.health.endSiteRound([dir]);
    }
    // The directory could not be listed last round: it stays failing until this round's checks have all run.
    const listedAgain = this.health.has(dir);
    this.reportListing(listing);
    for (const check of listing.checks) {
      const result = check.refused
        ? { ok: false, reason: check.refused, durationMs: 0 }
        : await runCheck(check.path, { timeoutMs, env: { ...checkEnvironment }, signal });
      if (signal.aborted) return;
      await this.health.record(check.name, result);
    }
    if (listedAgain) await this.health.record(dir, { ok: true, durationMs: 0 });
    await this.health.endSiteRound(listing.checks.map((c) => c.name));
  }

  /** What the directory holds, when that changed: a check without its execute bit is otherwise silently not run. */
  private reportListing(listing: CheckListing): void {
    const key = JSON.stringify(listing);
    if (key === this.listed) return;
    this.listed = key;
    const fields = {
      event: 'health-checks-found',
      dir: this.options.dir,
      checks: listing.checks.map((c) => c.name),
      skipped: listing.skipped,
      ignored: listing.ignored,
    };
    if (listing.ignored.length > 0)
      this.log.warn(fields, `more than ${listing.checks.length} health checks: ${listing.ignored.length} not run`);
    else this.log.info(fields, `${listing.checks.length} health checks in ${this.options.dir}`);
  }
}
