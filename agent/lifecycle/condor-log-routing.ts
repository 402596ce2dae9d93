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
  /**
   * A slot's starter has its Chirp server up (before it fetches the job's input and spawns the job); `starterPid` from
   * the line's "(pid:N)" when HTCondor wrote one.
   */
  onChirpReady?: (slot: string, starterPid: number | undefined) => void;
  /** Reads every daemon log to its end (the forwarder's flush). */
  flush: () => Promise<void>;
}

/** One pattern for lines that begin with any of `starts` (after an optional `prefix`). */
const lineStarts = (starts: readonly string[], prefix = ''): RegExp =>
  new RegExp(starts.map((start) => `^${prefix}(?:${start})`).join('|'));

const oomLine = /^\(pid:(\d+)\) Process pid \d+ was OOM killed$/;
/** HTCondor's starter (jic_shadow.cpp, D_ALWAYS) once it has written .chirp.config and listens for Chirp. */
const chirpReadyLine = /^(?:\(pid:(\d+)\) )?Initialized IO Proxy\.$/;
/**
 * The startd's routine lines, kept at debug: the CVMFS and health cron jobs' starts (every 2 s), and the slot state
 * machine's steps that every claim and activation goes through, named one by one. A claim's story stays at info: the
 * dynamic slot and its size, "Request accepted", the remote owner, each activation with the job's ID, the starter's
 * exit, the slot's deletion; so does every other state change (a preemption, a claim the schedd no longer knows).
 */
const routineStartdLine = lineStarts([
  'STARTD_CRON job WN(CVMFS|HEALTH) started',
  String.raw`slot\S+: Changing activity: (Idle -> Busy|Busy -> Idle)$`,
  String.raw`slot\S+: Changing state: (Owner -> Claimed|Owner -> Unclaimed|Unclaimed -> Delete)$`,
  String.raw`slot\S+: Changing state and activity: (Claimed/Idle -> Preempting/Vacating|Preempting/Vacating -> Owner/Idle)$`,
  String.raw`slot\S+: State change: (claim-activation protocol successful|claiming protocol successful|starter exited|IS_OWNER is false|No preempting claim, returning to owner|received RELEASE_CLAIM command)$`,
  String.raw`slot\S+: Got universe "\w+" \(\d+\) from request classad$`,
  String.raw`slot\S+: Called deactivate_claim(_forcibly)?\(\)$`,
]);
/**
 * What every job's starter writes the same way, whatever the job: its start-up banner and configuration sources, its
 * sockets, the cgroup checks, and the routine steps of every job's start (about 45 of its ~55 lines per job). Kept at
 * debug: on a 64-core node running short jobs they would be most of the log, and cost the agent CPU for every job.
 * The lines that name the job's ID ("Starting a ... job with ID") and user ("Running job as user"), its wrapper, its
 * exit and errors stay at info.
 */
const routineStarterLine = lineStarts(
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
    // The same steps of every job's start, in order.
    'Communicating with shadow <',
    'Submitting machine is "',
    'setting the orig job (name|iwd) in starter$',
    'Chirp config summary: ',
    String.raw`Initialized IO Proxy\.$`,
    'Done setting resource limits$',
    'Set filetransfer runtime ads to ',
    'Not entering transfer queue because sandbox ',
    String.raw`File transfer completed successfully\.$`,
    String.raw`Job \d+\.\d+ set to execute immediately$`,
    'Tracking process family by login ',
    'IWD: ',
    'Output file: ',
    'Renice expr ',
    String.raw`Moved process \d+ to cgroup `,
    String.raw`Create_Process succeeded, pid=\d+$`,
  ],
  String.raw`(?:\(pid:\d+\) )?`,
);

/**
 * The level a forwarded line is logged at: HTCondor's trouble words (ERROR, WARNING) as they are; routine lines at
 * debug (--log-level debug shows them): the cron starts and the slot state machine's steps, every starter's
 * boilerplate and routine steps, and all of condor_procd's bookkeeping (its snapshots and process-family
 * registrations, ~18 lines per job).
 */
export function forwardedLevel(daemon: string, level: 'info' | 'warn' | 'error', msg: string): 'debug' | 'info' | 'warn' | 'error' {
  if (level !== 'info') return level;
  if (daemon === 'procd') return 'debug';
  if (daemon === 'starter') return routineStarterLine.test(msg) ? 'debug' : 'info';
  if (daemon === 'startd') return routineStartdLine.test(msg) ? 'debug' : 'info';
  return 'info';
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
      else if (entry.slot) {
        const ready = chirpReadyLine.exec(parsed.msg);
        if (ready) routing.onChirpReady?.(entry.slot, ready[1] === undefined ? undefined : Number(ready[1]));
      }
      health.starterLine(parsed.msg);
    }
    recent.push(`${entry.file}: ${entry.line}`);
    const level = forwardedLevel(entry.daemon, parsed.level, parsed.msg);
    log[level]({ source: 'condor', daemon: entry.daemon, slot: entry.slot, condorTime: parsed.condorTime }, parsed.msg);
  };
}
