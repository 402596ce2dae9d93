import { podman, repoRoot } from '../test/support/exec.ts';
import type { TestPool, Worker } from '../test/support/pool.ts';
import { waitFor } from '../agent/util/wait.ts';
import { agentUsage, ticksPerSecond, type ProcessUsage } from './process-usage.ts';
import { advertisedAfter, benchConf, removeContainer, startPlain } from './workers.ts';
import { median, percentile, round } from './stats.ts';

export interface JobStartResult {
  jobs: number;
  /** Startd's "Got activate_claim request" until the job's first instruction (its own `date +%s%N`), per job. */
  agentMs: { p50: number; p99: number; n: number };
  plainMs: { p50: number; p99: number; n: number };
  addedMs: { p50: number; p99: number };
  placementFailures: number;
  attributeFailures: number;
  /** The agent's own figures for its two steps (events job-placed and job-attributes-recorded). */
  placementMs: { p50: number; p99: number };
  recordMs: { p50: number; p99: number };
  churn: { seconds: number; peakRssMiB: number; peakAnonMiB: number; cpuOwn: number; cpuWithChildren: number; before: ProcessUsage };
  /** The black-hole check on a healthy worker: the job ends it read (by outcome) and how often it tripped. */
  blackHole: { jobEnds: Record<string, number>; trips: number; unhealthy: number };
}

/** wn_agent_job_ends_total by outcome, from the worker's own /metrics (read inside the container). */
async function jobEnds(worker: Worker): Promise<Record<string, number>> {
  const text = await worker.exec(['node', '-e', 'fetch("http://127.0.0.1:9680/metrics").then(async (r) => console.log(await r.text()))']);
  const ends: Record<string, number> = {};
  for (const [, outcome = '', count] of text.matchAll(/^wn_agent_job_ends_total\{outcome="(\w+)"\} (\d+)$/gm))
    ends[outcome] = Number(count);
  return ends;
}

/** "11/25/26 06:40:52.123 slot1_1: ..." (D_SUB_SECOND), container time = UTC. */
export function activationTimes(startLog: string): Map<string, number> {
  const bySlot = new Map<string, number>();
  const byJob = new Map<string, number>();
  for (const line of startLog.split('\n')) {
    const m = /^(\d\d)\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) (slot\d+_\d+): (.*)$/.exec(line);
    if (!m) continue;
    const [, mo, d, y, h, mi, s, ms, slot = '', text = ''] = m;
    const at = Date.UTC(2000 + Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms));
    if (text.startsWith('Got activate_claim request')) bySlot.set(slot, at);
    const job = /^Remote job ID is (\d+\.\d+)/.exec(text)?.[1];
    const activated = bySlot.get(slot);
    if (job && activated !== undefined) byJob.set(job, activated);
  }
  return byJob;
}

/** Per job: from activation to the job's first instruction, in ms. */
export async function startDelays(pool: TestPool, cluster: number, startLog: string): Promise<number[]> {
  const activations = activationTimes(startLog);
  const out = await pool.exec(['sh', '-c', `grep -H . js-${cluster}.*.out || true`], { user: 'submitter' });
  const delays: number[] = [];
  for (const line of out.split('\n')) {
    const m = /^js-(\d+\.\d+)\.out:(\d+)$/.exec(line.trim());
    const activated = m ? activations.get(m[1] ?? '') : undefined;
    if (m && activated !== undefined) delays.push(Number(BigInt(m[2] ?? '0') / 1000n) / 1000 - activated);
  }
  return delays;
}

const submitDates = (pool: TestPool, requirements: string, jobs: number): Promise<number> =>
  pool.submit(
    [
      'executable = /bin/date',
      'arguments = +%s%N',
      'transfer_executable = False',
      'should_transfer_files = YES',
      'output = js-$(Cluster).$(Process).out',
      'log = js.log',
      `requirements = ${requirements}`,
      `queue ${jobs}`,
      '',
    ].join('\n'),
  );

/**
 * The same short jobs on an agent worker and on a plain worker (HTCondor's own namespaces, no agent) in the same
 * pool at the same time; what the agent adds is the difference between the two delay distributions.
 */
export async function jobStart(pool: TestPool, jobs: number): Promise<JobStartResult> {
  const plainName = `wn-${pool.name}-js-plain`;
  const agent: Worker = await pool.startWorker({
    name: `wn-${pool.name}-js-agent`,
    mounts: [pool.passwordMount, pool.testConfigMount, `${benchConf}:/etc/wn-agent/condor.d/70-bench.conf:ro`],
  });
  await startPlain(pool, plainName, [`${repoRoot}bench/plain-isolation.conf`, benchConf]);
  try {
    await agent.waitForEvent('startd-advertised');
    await advertisedAfter(pool, `BenchName == "${plainName}"`, Date.now());
    const before = await agentUsage(agent);
    const t0 = Date.now();
    const [agentCluster, plainCluster] = await Promise.all([
      submitDates(pool, `ContainerTaskId == "${agent.name}"`, jobs),
      submitDates(pool, `BenchName == "${plainName}"`, jobs),
    ]);
    let peakRss = before.rssMiB;
    let peakAnon = before.anonMiB;
    let agentDoneAt = 0;
    await waitFor(
      async () => {
        if (!agentDoneAt) {
          const now = await agentUsage(agent);
          peakRss = Math.max(peakRss, now.rssMiB);
          peakAnon = Math.max(peakAnon, now.anonMiB);
        }
        const [a, p] = await Promise.all([
          pool.history(`ClusterId == ${agentCluster}`, ['ProcId']),
          pool.history(`ClusterId == ${plainCluster}`, ['ProcId']),
        ]);
        if (!agentDoneAt && a.length >= jobs) agentDoneAt = Date.now();
        return a.length >= jobs && p.length >= jobs ? true : undefined;
      },
      { timeoutMs: 60 * 60_000, intervalMs: 1000, what: 'job start benchmark jobs done' },
    );
    const after = await agentUsage(agent);
    const seconds = (agentDoneAt - t0) / 1000;
    const logDirOf = { agent: '/var/lib/wn-agent/condor/log', plain: '/var/log/condor' };
    const [agentLog, plainLog] = await Promise.all([
      agent.exec(['cat', `${logDirOf.agent}/StartLog`]),
      podman(['exec', plainName, 'cat', `${logDirOf.plain}/StartLog`]),
    ]);
    const [agentMs, plainMs] = await Promise.all([startDelays(pool, agentCluster, agentLog), startDelays(pool, plainCluster, plainLog)]);
    const lines = await agent.jsonLogs();
    const ends = await jobEnds(agent);
    const numbers = (event: string, field: string): number[] => lines.filter((l) => l.event === event).map((l) => Number(l[field]));
    const placement = numbers('job-placed', 'placementMs');
    const record = numbers('job-attributes-recorded', 'recordMs');
    const pct = (xs: number[]): { p50: number; p99: number } => ({ p50: round(percentile(xs, 50)), p99: round(percentile(xs, 99)) });
    return {
      jobs,
      agentMs: { ...pct(agentMs), n: agentMs.length },
      plainMs: { ...pct(plainMs), n: plainMs.length },
      addedMs: { p50: round(median(agentMs) - median(plainMs)), p99: round(percentile(agentMs, 99) - percentile(plainMs, 99)) },
      placementFailures: lines.filter((l) => l.event === 'job-placement-failed').length,
      attributeFailures: lines.filter((l) => l.event === 'job-attributes-failed').length,
      placementMs: pct(placement),
      recordMs: pct(record),
      churn: {
        seconds,
        peakRssMiB: round(peakRss),
        peakAnonMiB: round(peakAnon),
        cpuOwn: (after.ownTicks - before.ownTicks) / ticksPerSecond / seconds,
        cpuWithChildren: (after.withChildrenTicks - before.withChildrenTicks) / ticksPerSecond / seconds,
        before,
      },
      blackHole: {
        jobEnds: ends,
        trips: lines.filter((l) => l.event === 'black-hole-detected').length,
        unhealthy: lines.filter((l) => l.event === 'worker-unhealthy').length,
      },
    };
  } finally {
    await agent.remove();
    await removeContainer(plainName);
  }
}
