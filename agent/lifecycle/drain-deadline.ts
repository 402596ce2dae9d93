import type { AgentConfig } from '../config/options.ts';
import type { StopReason } from './stop-request.ts';

/** The drains the agent starts on its own are short: a worker that chose to go is not kept for --drain-timeout. */
export const ownDrainLimitMs = 60_000;

/**
 * How long running jobs may take once a stop of this kind begins, by one rule for the whole agent:
 * - a signal or a drain request: --drain-timeout, or the request's own (`wn-agent drain --timeout`);
 * - idle: a minute (an idle worker has no job; one may have been claimed in the last moment);
 * - --accept-jobs-for: what --max-lifetime leaves after it, else --drain-timeout;
 * - --max-lifetime: --drain-timeout, at most a minute (the lifetime is the site's bound, the drain is inside it).
 */
export function drainDeadline(
  reason: StopReason,
  config: Pick<AgentConfig, 'drainTimeoutMs' | 'acceptJobsForMs' | 'maxLifetimeMs'>,
  asked?: number,
): number {
  switch (reason) {
    case 'signal':
      return config.drainTimeoutMs;
    case 'drain-request':
      return asked ?? config.drainTimeoutMs;
    case 'idle':
      return ownDrainLimitMs;
    case 'accept-jobs-for':
      return config.maxLifetimeMs === undefined ? config.drainTimeoutMs : Math.max(0, config.maxLifetimeMs - (config.acceptJobsForMs ?? 0));
    case 'max-lifetime':
      return Math.min(config.drainTimeoutMs, ownDrainLimitMs);
  }
}
