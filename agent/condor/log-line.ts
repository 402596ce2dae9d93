/** How an HTCondor daemon log file name and line map onto a structured log record. */

export interface DaemonLogFile {
  /** master, startd, starter, shared_port, procd, ... */
  daemon: string;
  /** StarterLog.slot1_1 → slot1_1 */
  slot?: string;
}

const daemonNames: Record<string, string> = {
  Master: 'master',
  Start: 'startd',
  Starter: 'starter',
  SharedPort: 'shared_port',
  Proc: 'procd',
  Schedd: 'schedd',
  Collector: 'collector',
  Negotiator: 'negotiator',
  Shadow: 'shadow',
};

/** Daemon logs are <Name>Log or <Name>Log.<slot>; rotated copies (.old) and lock files are not forwarded. */
export function daemonLogFile(fileName: string): DaemonLogFile | undefined {
  const match = /^([A-Za-z]+)Log(?:\.([A-Za-z0-9_]+))?$/.exec(fileName);
  if (!match || match[2] === 'old') return undefined;
  const base = match[1] ?? '';
  const daemon = daemonNames[base] ?? base.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  return match[2] === undefined ? { daemon } : { daemon, slot: match[2] };
}

export interface DaemonLogLine {
  /** The daemon's own timestamp as written (container-local time), when the line has one. */
  condorTime?: string;
  level: 'info' | 'warn' | 'error';
  msg: string;
}

// Default DEBUG_TIME_FORMAT: "11/24/26 05:31:26 message" (optionally with sub-second digits).
const stamped = /^(\d\d)\/(\d\d)\/(\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) (.*)$/s;

export function parseDaemonLogLine(line: string): DaemonLogLine {
  const match = stamped.exec(line);
  // condor_procd separates its timestamp with " : ".
  const msg = match ? (match[5] ?? '').replace(/^: /, '') : line;
  // HTCondor logs carry no severity; these words are how its daemons flag trouble.
  const level = /\bERROR\b|\bFATAL\b|\bPANIC\b/.test(msg) ? 'error' : /\bWARNING\b/.test(msg) ? 'warn' : 'info';
  if (!match) return { level, msg };
  return { condorTime: `20${match[3]}-${match[1]}-${match[2]}T${match[4]}`, level, msg };
}
