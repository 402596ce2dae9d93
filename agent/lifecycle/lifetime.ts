import type { AgentConfig } from '../config/options.ts';
import type { Logger } from '../log/logger.ts';
import { drainDeadline } from './drain-deadline.ts';
import type { StopController } from './stop-request.ts';

/**
 * When running jobs must be done, in epoch seconds, for a worker started at `now` (ms): what startTimers() below
 * makes happen. --accept-jobs-for drains with the rest of --max-lifetime (or --drain-timeout) for the jobs;
 * --max-lifetime drains with at most a minute. Undefined when neither is set: the worker then runs until told.
 */
export function jobsEndBy(
  config: Pick<AgentConfig, 'acceptJobsForMs' | 'maxLifetimeMs' | 'drainTimeoutMs'>,
  now: number,
): number | undefined {
  const ends: number[] = [];
  const { acceptJobsForMs: accept, maxLifetimeMs: max } = config;
  if (accept !== undefined) ends.push(accept + drainDeadline('accept-jobs-for', config));
  if (max !== undefined) ends.push(max + drainDeadline('max-lifetime', config));
  return ends.length === 0 ? undefined : Math.floor((now + Math.min(...ends)) / 1000);
}

/** --accept-jobs-for and --max-lifetime: both end in a drain; the lifetime bounds that drain. */
export function startTimers(config: AgentConfig, stopper: StopController, log: Logger, signal: AbortSignal): void {
  const at = (ms: number | undefined, fire: () => void): void => {
    if (ms === undefined) return;
    const timer = setTimeout(fire, ms);
    timer.unref();
    signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  };
  at(config.acceptJobsForMs, () => {
    log.info({ event: 'accept-jobs-for-reached', acceptJobsForMs: config.acceptJobsForMs }, 'no new jobs from now on');
    stopper.request({ reason: 'accept-jobs-for', drainTimeoutMs: drainDeadline('accept-jobs-for', config) });
  });
  at(config.maxLifetimeMs, () => {
    log.info({ event: 'max-lifetime-reached', maxLifetimeMs: config.maxLifetimeMs }, 'maximum lifetime reached');
    stopper.request({ reason: 'max-lifetime', drainTimeoutMs: drainDeadline('max-lifetime', config) });
  });
}
