import type { AgentConfig } from '../config/options.ts';
import type { EventHub } from '../events/hub.ts';
import type { Logger } from '../log/logger.ts';
import type { Traceability } from '../metadata/traceability.ts';
import type { RunSummary } from './summary.ts';
import { Worker } from './worker.ts';

export type { RunSummary } from './summary.ts';

/**
 * `wn-agent run`: one Worker (lifecycle/worker.ts) through its phases: configure, start HTCondor, serve, drain, stop.
 * The returned summary is the last log line and carries the exit code.
 */
export function runAgent(config: AgentConfig, log: Logger, trace: Traceability, hub: EventHub): Promise<RunSummary> {
  return new Worker(config, log, trace, hub).run();
}
