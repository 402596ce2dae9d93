import { waitFor } from '../agent/util/wait.ts';
import { podman, repoRoot } from '../test/support/exec.ts';
import type { TestPool, Worker } from '../test/support/pool.ts';
import { startDelays } from './job-start.ts';
import { agentUsage, ticksPerSecond } from './process-usage.ts';
import { median, percentile, round } from './stats.ts';
import { advertisedAfter, benchConf, removeContainer, startPlain } from './workers.ts';

/** What the agent holds in the kernel: descriptors, job cgroups, inotify watches. None may grow once jobs are done. */
export interface Held {
  fds: number;
  jobCgroups: number;
  inotifyWatches: number;
}

export interface BigWorkerResult {
  cpus: number;
  concurrent: number;
  /** Job start added (agent − plain, activation → the job's first instruction) with `concurrent` starts at once. */
  addedMs: { p50: number; p99: number };
  agentMs: { p50: number; p99: number; n: number };
  plainMs: { p50: number; p99: number; n: number };
  /** The agent's own CPU per job over the burst and over the churn, ms. */
  cpuPerJobMs: { burst: number; churn: number };
  peak: { rssMiB: number; anonMiB: number; eventLoopLagP99Ms: number };
  /** The agent's log lines (every one is an event) per second over the burst. */
  eventsPerSecond: number;
  churn: { jobs: number; seconds: number };
  held: { before: Held; afterBurst: Held; afterChurn: Held };
  rssMiB: { idle: number; afterChurn: number };
  /** RssAnon: the agent's own memory; the rest of VmRSS is node's code and data pages read from its file, shared. */
  anonMiB: { idle: number; afterChurn: number };
}

/** Descriptors, job cgroups (memory hierarchy, below the agent's jobs/) and inotify watches of the agent's process. */
export async function held(worker: Worker): Promise<Held> {
  const out = await worker.exec([
    'sh',
    '-c',
    [
      'p=$(pgrep -f wn-agent.mjs | head -n 1)',
      'echo fds $(ls /proc/$p/fd | wc -l)',
      'echo cgroups $(find /sys/fs/cgroup/memory/ -path "*/jobs/*" -type d 2>/dev/null | wc -l)',
      'echo watches $(cat /proc/$p/fdinfo/* 2>/dev/null | grep -c "^inotify")',
    ].join('; '),
  ]);
  const n = (key: string): number => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(out)?.[1]);
  return { fds: n('fds'), jobCgroups: n('cgroups'), inotifyWatches: n('watches') };
}

/** nodejs_eventloop_lag_p99_seconds from the worker's /metrics, in ms. */
export async function eventLoopLagP99Ms(worker: Worker): Promise<number> {
  const text = await worker.exec(['node', '-e', 'fetch("http://127.0.0.1:9680/metrics").then(async (r) => console.log(await r.text()))']);
  return Number(/^nodejs_eventloop_lag_p99_seconds ([\d.e+-]+)$/m.exec(text)?.[1]) * 1000;
}

export const submitSleepers = (pool: TestPool, requirements: string, jobs: number, seconds: number): Promise<number> =>
  pool.submit(
    [
      'executable = /bin/sh',
      `arguments = "-c 'date +%s%N; sleep ${seconds}'"`,
      'transfer_executable = False',
      'should_transfer_files = YES',
      'output = js-$(Cluster).$(Process).out',
      'log = big.log',
      'request_cpus = 1',
      'request_memory = 64',
      `requirements = ${requirements}`,
      `queue ${jobs}`,
      '',
    ].join('\n'),
  );

const allDone = (pool: TestPool, cluster: number, jobs: number, what: string): Promise<unknown> =>
  waitFor(async () => ((await pool.history(`ClusterId == ${cluster}`, ['ProcId'])).length >= jobs ? true : undefined), {
    timeoutMs: 90 * 60_000,
    intervalMs: 2000,
    what,
  });

/**
 * A worker the size of a real node (64 CPUs advertised, jobs that sleep, so two real cores suffice) beside a plain
 * HTCondor worker of the same size: `concurrent` single-core jobs submitted to each at once, then `churn` short jobs
 * through the agent worker at the pool's pace. Job start is measured from the startd's and the job's own clocks.
 */
export async function bigWorker(pool: TestPool, concurrent: number, churn: number): Promise<BigWorkerResult> {
  const plainName = `wn-${pool.name}-big-plain`;
  const agent = await pool.startWorker({
    name: `wn-${pool.name}-big-agent`,
    mounts: [pool.passwordMount, pool.testConfigMount, `${benchConf}:/etc/wn-agent/condor.d/70-bench.conf:ro`],
    agentArgs: ['--cpus', '64', '--memory', '16G'],
  });
  await startPlain(pool, plainName, [`${repoRoot}bench/plain-isolation.conf`, benchConf, `${repoRoot}bench/big-slots.conf`]);
  try {
    await agent.waitForEvent('startd-advertised');
    await advertisedAfter(pool, `BenchName == "${plainName}"`, Date.now());
    const idle = await agentUsage(agent);
    const before = await held(agent);
    const linesBefore = (await agent.jsonLogs()).length;
    const t0 = Date.now();
    const [agentCluster, plainCluster] = await Promise.all([
      submitSleepers(pool, `ContainerTaskId == "${agent.name}"`, concurrent, 30),
      submitSleepers(pool, `BenchName == "${plainName}"`, concurrent, 30),
    ]);
    let peakRss = idle.rssMiB;
    let peakAnon = idle.anonMiB;
    let peakLag = 0;
    await waitFor(
      async () => {
        const usage = await agentUsage(agent);
        peakRss = Math.max(peakRss, usage.rssMiB);
        peakAnon = Math.max(peakAnon, usage.anonMiB);
        peakLag = Math.max(peakLag, await eventLoopLagP99Ms(agent));
        return (await pool.countInQueue(agentCluster, 'JobStatus == 2')) >= concurrent ? true : undefined;
      },
      { timeoutMs: 30 * 60_000, intervalMs: 1000, what: `${concurrent} jobs running on the agent worker` },
    );
    const burstSeconds = (Date.now() - t0) / 1000;
    const eventsPerSecond = ((await agent.jsonLogs()).length - linesBefore) / burstSeconds;
    await Promise.all([
      allDone(pool, agentCluster, concurrent, 'the burst on the agent'),
      allDone(pool, plainCluster, concurrent, 'the burst on the plain worker'),
    ]);
    const afterBurst = await agentUsage(agent);
    const heldAfterBurst = await waitFor(
      async () => {
        const now = await held(agent);
        return now.jobCgroups <= before.jobCgroups ? now : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: 'every job cgroup of the burst removed' },
    );
    const [agentLog, plainLog] = await Promise.all([
      agent.exec(['cat', '/var/lib/wn-agent/condor/log/StartLog']),
      podman(['exec', plainName, 'cat', '/var/log/condor/StartLog']),
    ]);
    const [agentMs, plainMs] = await Promise.all([startDelays(pool, agentCluster, agentLog), startDelays(pool, plainCluster, plainLog)]);

    const churnStart = Date.now();
    const churnCluster = await submitSleepers(pool, `ContainerTaskId == "${agent.name}"`, churn, 0);
    await allDone(pool, churnCluster, churn, `${churn} short jobs on the agent worker`);
    const churnSeconds = (Date.now() - churnStart) / 1000;
    const afterChurn = await agentUsage(agent);
    const heldAfterChurn = await waitFor(
      async () => {
        const now = await held(agent);
        return now.jobCgroups <= before.jobCgroups ? now : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: 'every job cgroup of the churn removed' },
    );
    const pct = (xs: number[]): { p50: number; p99: number } => ({ p50: round(percentile(xs, 50)), p99: round(percentile(xs, 99)) });
    return {
      cpus: 64,
      concurrent,
      addedMs: { p50: round(median(agentMs) - median(plainMs)), p99: round(percentile(agentMs, 99) - percentile(plainMs, 99)) },
      agentMs: { ...pct(agentMs), n: agentMs.length },
      plainMs: { ...pct(plainMs), n: plainMs.length },
      cpuPerJobMs: {
        burst: round(((afterBurst.ownTicks - idle.ownTicks) / ticksPerSecond / concurrent) * 1000),
        churn: round(((afterChurn.ownTicks - afterBurst.ownTicks) / ticksPerSecond / churn) * 1000),
      },
      peak: { rssMiB: round(peakRss), anonMiB: round(peakAnon), eventLoopLagP99Ms: round(peakLag) },
      eventsPerSecond: round(eventsPerSecond),
      churn: { jobs: churn, seconds: round(churnSeconds) },
      held: { before, afterBurst: heldAfterBurst, afterChurn: heldAfterChurn },
      rssMiB: { idle: round(idle.rssMiB), afterChurn: round(afterChurn.rssMiB) },
      anonMiB: { idle: round(idle.anonMiB), afterChurn: round(afterChurn.anonMiB) },
    };
  } finally {
    await agent.remove();
    await removeContainer(plainName);
  }
}
