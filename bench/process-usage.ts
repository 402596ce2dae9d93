import type { Worker } from '../test/support/pool.ts';

export interface ProcessUsage {
  /** VmRSS: what `ps` shows, shared code pages of node included. */
  rssMiB: number;
  /** RssAnon: the agent's own memory (heap, stacks), what a further worker on the host costs in agent memory. */
  anonMiB: number;
  /** utime + stime of the agent itself, in clock ticks (100 per second). */
  ownTicks: number;
  /** The same plus its reaped children (cutime + cstime): the condor_status and mkfifo processes it runs. */
  withChildrenTicks: number;
}

export const ticksPerSecond = 100;

/** The agent's Node process inside a worker, read from /proc in one exec. */
export async function agentUsage(worker: Worker): Promise<ProcessUsage> {
  const out = await worker.exec([
    'sh',
    '-c',
    'p=$(pgrep -f wn-agent.mjs | head -n 1); grep -E "^(VmRSS|RssAnon)" /proc/$p/status; cat /proc/$p/stat',
  ]);
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(out)?.[1]);
  const anonKiB = Number(/RssAnon:\s+(\d+)/.exec(out)?.[1]);
  const stat = out.split('\n').find((line) => line.includes(') ')) ?? '';
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  // Fields after "(comm) ": state is [0], utime [11], stime [12], cutime [13], cstime [14] (proc(5) 14-17).
  const own = (fields[11] ?? NaN) + (fields[12] ?? NaN);
  return {
    rssMiB: rssKiB / 1024,
    anonMiB: anonKiB / 1024,
    ownTicks: own,
    withChildrenTicks: own + (fields[13] ?? NaN) + (fields[14] ?? NaN),
  };
}
