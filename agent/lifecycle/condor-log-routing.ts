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
  /** A slot's starter has its Chirp server up (before it fetches the job's input and spawns the job). */
  onChirpReady?: (slot: string) => void;
  /** Reads every daemon log to its end (the forwarder's flush). */
  flush: () => Promise<void>;
}

const oomLine = /^\(pid:(\d+)\) Process pid \d+ was OOM killed$/;
/** HTCondor's starter (jic_shadow.cpp, D_ALWAYS) once it has written .chirp.config and listens for Chirp. */
const chirpReadyLine = /^(?:\(pid:\d+\) )?Initialized IO Proxy\.$/;
/** The CVMFS and health cron jobs start every 2 s; their start lines are routine, kept at debug. */
const routineCronLine = /^STARTD_CRON job WN(CVMFS|HEALTH) started/;
/**
 * What every job's starter writes the same way, whatever the job: its start-up banner and configuration sources, its
 * sockets, and the cgroup checks (about 25 of its ~55 lines per job). Kept at debug: on a 64-core node running short
 * jobs they would be most of the log, and cost the agent CPU for every job. The lines that say something about the
 * job (its ID, user, wrapper, exit, errors) stay at info.
 */
const routineStarterLine = new RegExp(
  [
    String.raw`\*{20,}$`, // the banner's frame (not "**** condor_starter ... EXITING WITH STATUS")
    String.raw`\*\* `, // the banner
    'Using (local )?config sources?:',
    '   /', // the config sources, one per line
    'config Macros = ',
    'CLASSAD_CACHING is ',
    'Daemon Log is logging: ',
    'SharedPortEndpoint: waiting for connections',
    'DaemonCore: (private )?command socket at ',
    String.raw`\s+Cgroup \S+ is useable$`,
    String.raw`Checking to see if \S+ is a writeable cgroup$`,
  ]
    .map((start) => `^(?:\\(pid:\\d+\\) )?${start}`)
    .join('|'),
);

/**
 * The level a forwarded line is logged at: HTCondor's trouble words (ERROR, WARNING) as they are; routine lines at
 * debug (--log-level debug shows them): the cron starts, every starter's boilerplate, and all of condor_procd's
 * bookkeeping (its snapshots and process-family registrations, ~18 lines per job).
 */
export function forwardedLevel(daemon: string, level: 'info' | 'warn' | 'error', msg: string): 'debug' | 'info' | 'warn' | 'error' {
  if (level !== 'info') return level;
  if (daemon === 'procd') return 'debug';
  if (daemon === 'starter') return routineStarterLine.test(msg) ? 'debug' : 'info';
  return routineCronLine.test(msg) ? 'debug' : 'info';
}

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
      else if (entry.slot && chirpReadyLine.test(parsed.msg)) routing.onChirpReady?.(entry.slot);
      health.starterLine(parsed.msg);
    }
    recent.push(`${entry.file}: ${entry.line}`);
    const level = forwardedLevel(entry.daemon, parsed.level, parsed.msg);
    log[level]({ source: 'condor', daemon: entry.daemon, slot: entry.slot, condorTime: parsed.condorTime }, parsed.msg);
  };
}
