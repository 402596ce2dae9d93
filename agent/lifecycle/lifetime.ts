import type { AgentConfig } from '../config/options.ts';
import type { Logger } from '../log/logger.ts';
import type { StopController } from './stop-request.ts';

/** --accept-jobs-for and --max-lifetime: both end in a drain; the lifetime bounds that drain. */
export function startTimers(config: AgentConfig, stopper: StopController, log: Logger, signal: AbortSignal): void {
  const at = (ms: number | undefined, fire: () => void): void => {
    if (ms === undefined) return;
    const timer = setTimeout(fire, ms);
    timer.unref();
    signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  };
  at(config.acceptJobsForMs, () => {
    const remaining =
      config.maxLifetimeMs === undefined ? config.drainTimeoutMs : Math.max(0, config.maxLifetimeMs - (config.acceptJobsForMs ?? 0));
    log.info({ event: 'accept-jobs-for-reached', acceptJobsForMs: config.acceptJobsForMs }, 'no new jobs from now on');
    stopper.request({ reason: 'accept-jobs-for', drainTimeoutMs: remaining });
  });
  at(config.maxLifetimeMs, () => {
    log.info({ event: 'max-lifetime-reached', maxLifetimeMs: config.maxLifetimeMs }, 'maximum lifetime reached');
    stopper.request({ reason: 'max-lifetime', drainTimeoutMs: Math.min(config.drainTimeoutMs, 60_000) });
  });
}
