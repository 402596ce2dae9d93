import type { ForwardedLine } from '../condor/log-forwarder.ts';
import { parseDaemonLogLine } from '../condor/log-line.ts';
import type { SlotSizes } from '../condor/slot-sizes.ts';
import type { HealthParts } from '../health/health-parts.ts';
import type { Logger } from '../log/logger.ts';
import type { RecentLines } from '../util/recent-lines.ts';

export interface CondorLogRouting {
  log: Logger;
  /** The last lines, for an error report. */
  recent: RecentLines;
  /** Dynamic slots' sizes as the startd logs them (placement reads them). */
  slotSizes: SlotSizes;
  health: Pick<HealthParts, 'starterLine' | 'reapedStarter' | 'jobEnded'>;
  /** The startd told the collector about itself: the hint that the slot ad is about to be there. */
  onInitialUpdate: () => void;
  /** HTCondor's own OOM kill of a job, by its starter's pid. */
  onOomKill: (starterPid: number) => void;
  /** Reads every daemon log to its end (the forwarder's flush). */
  flush: () => Promise<void>;
}

const oomLine = /^\(pid:(\d+)\) Process pid \d+ was OOM killed$/;
/** The CVMFS and health cron jobs start every 2 s; their start lines are routine, kept at debug. */
const routineCronLine = /^STARTD_CRON job WN(CVMFS|HEALTH) started/;

/**
 * What the agent does with each line of HTCondor's daemon logs: it learns from some (slot sizes, the initial update,
 * OOM kills, jobs' ends) and forwards every one as a JSON log line with its daemon, slot and HTCondor's own time.
 */
export function condorLogRouter(routing: CondorLogRouting): (entry: ForwardedLine) => void {
  const { log, recent, slotSizes, health } = routing;
  return (entry) => {
    const parsed = parseDaemonLogLine(entry.line);
    if (entry.daemon === 'startd') {
      slotSizes.observe(parsed.msg);
      if (parsed.msg.startsWith('Initial update sent to collector')) routing.onInitialUpdate();
      const reaped = health.reapedStarter(parsed.msg);
      // The starter's last lines were written before it exited, but may sit in a file not yet read: every log is
      // read to its end before the job is judged.
      if (reaped !== undefined)
        void routing
          .flush()
          .catch(() => undefined)
          .then(() => health.jobEnded(reaped));
    }
    if (entry.daemon === 'starter') {
      // HTCondor's own OOM detection, in its nested job cgroup (on v1 the kill is counted there, not in the slot's).
      const oom = oomLine.exec(parsed.msg);
      if (oom) routing.onOomKill(Number(oom[1]));
      health.starterLine(parsed.msg);
    }
    recent.push(`${entry.file}: ${entry.line}`);
    const level = routineCronLine.test(parsed.msg) ? 'debug' : parsed.level;
    log[level]({ source: 'condor', daemon: entry.daemon, slot: entry.slot, condorTime: parsed.condorTime }, parsed.msg);
  };
}
