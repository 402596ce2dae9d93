import { logLevels, type LogLevel } from '../config/options.ts';

/** The one event model: every line the agent writes becomes an event with a sequence number. */
// An event's severity is the log level of the line it came from.
export const severities = logLevels;
export type Severity = LogLevel;

export interface AgentEvent {
  /** Monotonically increasing from 1 for the life of the agent. */
  seq: number;
  time: string;
  /**
   * The agent's own events by name (job-started, drain-started, cvmfs-unhealthy, ...), `condor-log` for a forwarded
   * HTCondor line, `agent-log` for another line of the agent's.
   */
  type: string;
  severity: Severity;
  msg: string;
  /** Everything else the line carried: taskId, containerId, image, daemon, jobId, slot, ... */
  [field: string]: unknown;
}

/** Turns one pino record (already an object) into an event; `seq` is assigned by the hub. */
export function toEvent(record: Record<string, unknown>, seq: number): AgentEvent {
  // `agent` ("wn-agent" on every line) is no news in an event.
  const { level, time, msg, event, source, agent, ...rest } = record;
  const severity = (severities as readonly string[]).includes(String(level)) ? (level as Severity) : 'info';
  const type = typeof event === 'string' ? event : source === 'condor' ? 'condor-log' : 'agent-log';
  return { ...rest, seq, time: String(time ?? new Date().toISOString()), type, severity, msg: String(msg ?? '') };
}

export interface EventFilter {
  types?: Set<string>;
  minSeverity?: Severity;
  daemons?: Set<string>;
}

export function matches(event: AgentEvent, filter: EventFilter): boolean {
  if (filter.types && !filter.types.has(event.type)) return false;
  if (filter.minSeverity && severities.indexOf(event.severity) < severities.indexOf(filter.minSeverity)) return false;
  if (filter.daemons && !filter.daemons.has(String(event.daemon ?? ''))) return false;
  return true;
}
