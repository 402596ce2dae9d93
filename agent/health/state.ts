import type { CheckResult } from './run-check.ts';

/** One check as /v1/status, /readyz and /metrics show it. */
export interface CheckStatus {
  name: string;
  ok: boolean;
  reason?: string | undefined;
  /** When its last run ended (ISO time). */
  lastRunAt: string;
  durationMs: number;
  /** Failed runs since the agent started. */
  failures: number;
}

export interface HealthSnapshot {
  /** No check fails. */
  healthy: boolean;
  checks: CheckStatus[];
}

export type HealthEvent =
  | { event: 'health-check-failed'; check: string; reason: string; durationMs: number }
  | { event: 'health-check-recovered'; check: string; durationMs: number; failedForMs: number }
  | { event: 'worker-unhealthy'; reasons: string[] }
  | { event: 'worker-healthy'; checks: string[] };

/** The agent's own checks: kept across the site's rounds, and names a site check cannot take. */
export const agentChecks = ['execute-disk', 'black-hole'] as const;

interface Entry {
  ok: boolean;
  reason: string | undefined;
  at: number;
  durationMs: number;
  failures: number;
  failingSince: number | undefined;
}

/**
 * The worker's health from its checks' last results, and what changed: a check's events on its own transitions (the
 * first failure after passing, or at its first run; the first pass after failing), the worker's when the whole
 * turns. A check that keeps failing, or keeps passing, says nothing more.
 */
export class HealthState {
  private readonly entries = new Map<string, Entry>();
  /** What the worker-level events last said; undefined before the first round ended or failed. */
  private announced: boolean | undefined;

  /** A check's result, as soon as it is known. */
  record(name: string, result: CheckResult, at: number): HealthEvent[] {
    const before = this.entries.get(name);
    const events: HealthEvent[] = [];
    const failingSince = result.ok ? undefined : (before?.failingSince ?? at);
    this.entries.set(name, {
      ok: result.ok,
      reason: result.ok ? undefined : (result.reason ?? 'failed'),
      at,
      durationMs: result.durationMs,
      failures: (before?.failures ?? 0) + (result.ok ? 0 : 1),
      failingSince,
    });
    if (!result.ok && before?.ok !== false)
      events.push({ event: 'health-check-failed', check: name, reason: result.reason ?? 'failed', durationMs: result.durationMs });
    if (result.ok && before?.ok === false)
      events.push({
        event: 'health-check-recovered',
        check: name,
        durationMs: result.durationMs,
        failedForMs: at - (before.failingSince ?? at),
      });
    if (!this.healthy && this.announced !== false) {
      this.announced = false;
      events.push({ event: 'worker-unhealthy', reasons: this.reasons() });
    } else if (this.healthy && this.announced === false) {
      this.announced = true;
      events.push({ event: 'worker-healthy', checks: [...this.entries.keys()].sort() });
    }
    return events;
  }

  /**
   * The round is over: the site's checks no longer in the directory are forgotten (the agent's own stay). The first healthy announcement waits for the
   * whole first round, so that one passing check does not call a worker healthy before the others have run.
   */
  endRound(present: readonly string[]): HealthEvent[] {
    for (const name of [...this.entries.keys()])
      if (!present.includes(name) && !(agentChecks as readonly string[]).includes(name)) this.entries.delete(name);
    if (this.healthy && this.announced !== true) {
      this.announced = true;
      return [{ event: 'worker-healthy', checks: [...this.entries.keys()].sort() }];
    }
    if (!this.healthy && this.announced !== false) {
      this.announced = false;
      return [{ event: 'worker-unhealthy', reasons: this.reasons() }];
    }
    return [];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  get healthy(): boolean {
    for (const entry of this.entries.values()) if (!entry.ok) return false;
    return true;
  }

  /** "name: reason" for every failing check, in name order. */
  reasons(): string[] {
    return [...this.entries.entries()]
      .filter(([, entry]) => !entry.ok)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, entry]) => `${name}: ${entry.reason ?? 'failed'}`);
  }

  snapshot(): HealthSnapshot {
    const checks = [...this.entries.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, e]) => ({
        name,
        ok: e.ok,
        ...(e.reason === undefined ? {} : { reason: e.reason }),
        lastRunAt: new Date(e.at).toISOString(),
        durationMs: e.durationMs,
        failures: e.failures,
      }));
    return { healthy: this.healthy, checks };
  }
}
