import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { discoverFromText } from '../agent/cgroup/discover.ts';
import { waitFor } from '../agent/util/wait.ts';
import { podman } from '../test/support/exec.ts';
import type { TestPool, Worker } from '../test/support/pool.ts';
import { median, round } from './stats.ts';
import { agentUsage } from './process-usage.ts';

export interface ScaleResult {
  workers: number;
  /** From the first `podman run` until condor_status lists every worker. */
  allAdvertisedMs: number;
  /** Each worker's own startd-advertised.elapsedMs (agent start to its ad in the collector). */
  perWorkerAdvertisedMs: { median: number; max: number };
  /** Whole container (agent, HTCondor daemons, tini): anonymous memory (host cgroup memory.stat total_rss), median. */
  containerAnonMiB: number;
  /** The agent alone, median: VmRSS (shared node code included) and RssAnon (its own). */
  agentRssMiB: number;
  agentAnonMiB: number;
  /** Host memory in use before and after (MemTotal - MemAvailable): what the workers cost together. */
  hostUsedMiB: { before: number; after: number; perWorker: number };
  collector: { ads: number; seconds: number; adsPerSecond: number } | { error: string };
}

async function hostUsedMiB(): Promise<number> {
  const text = await readFile('/proc/meminfo', 'utf8');
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1]);
  return (kib('MemTotal') - kib('MemAvailable')) / 1024;
}

async function containerRss(name: string): Promise<number> {
  const pid = (await podman(['inspect', '-f', '{{.State.Pid}}', name])).trim();
  const layout = discoverFromText(await readFile('/proc/self/mountinfo', 'utf8'), await readFile(`/proc/${pid}/cgroup`, 'utf8'));
  const dir = layout.controllers.get('memory')?.dir?.replace(/\/agent$/, '');
  if (!dir) return NaN;
  const stat = await readFile(join(dir, 'memory.stat'), 'utf8');
  return Number(/^total_rss (\d+)$/m.exec(stat)?.[1]) / 1048576;
}

/**
 * How fast the pool's collector takes startd ads: `count` synthetic slot ads sent in one condor_advertise from the
 * central manager's own container (no network, no workers), the ceiling against which the 2,000-worker model is set.
 */
async function collectorRate(pool: TestPool, count: number): Promise<ScaleResult['collector']> {
  const ads = Array.from({ length: count }, (_, i) =>
    [
      'MyType = "Machine"',
      'TargetType = "Job"',
      `Name = "slot1@bench-fake-${i}"`,
      `Machine = "bench-fake-${i}"`,
      'MyAddress = "<10.255.0.1:9618?sock=startd_1_1>"',
      'State = "Unclaimed"',
      'Activity = "Idle"',
      'Cpus = 8',
      'Memory = 16000',
      'Requirements = true',
      'Start = true',
      'BenchFake = true',
      '',
    ].join('\n'),
  ).join('\n');
  try {
    await pool.exec(['sh', '-c', 'cat > /tmp/bench-ads'], { input: ads });
    const out = await pool.exec([
      'sh',
      '-c',
      's=$(date +%s%N); condor_advertise -multiple UPDATE_STARTD_AD /tmp/bench-ads >/tmp/bench-adv.out 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))',
    ]);
    const ms = Number(out.trim());
    const seen = await waitFor(
      async () => {
        const n = (await pool.status('BenchFake =?= true', ['Name'])).length;
        return n >= count ? n : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'synthetic ads in the collector' },
    );
    await pool
      .exec([
        'sh',
        '-c',
        'condor_advertise INVALIDATE_STARTD_ADS /dev/stdin <<EOF\nMyType = "Query"\nTargetType = "Machine"\nRequirements = BenchFake =?= true\nEOF',
      ])
      .catch(() => undefined);
    return { ads: seen, seconds: ms / 1000, adsPerSecond: round(count / (ms / 1000)) };
  } catch (error) {
    return { error: (error as Error).message.slice(0, 300) };
  }
}

/** `count` agent workers started at once, joining one pool. */
export async function scale(pool: TestPool, count: number, collectorAds: number): Promise<ScaleResult> {
  const before = await hostUsedMiB();
  const t0 = Date.now();
  const workers: Worker[] = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      pool.startWorker({ name: `wn-${pool.name}-scale-${i}`, mounts: [pool.passwordMount, pool.testConfigMount] }),
    ),
  );
  try {
    const allAdvertisedMs = await waitFor(
      async () => {
        const n = (await pool.status(`regexp("^wn-${pool.name}-scale-", ContainerTaskId)`, ['Name'])).length;
        return n >= count ? Date.now() - t0 : undefined;
      },
      { timeoutMs: 20 * 60_000, intervalMs: 250, what: `${count} workers advertised` },
    );
    const advertised = await Promise.all(workers.map(async (w) => Number((await w.waitForEvent('startd-advertised')).elapsedMs)));
    const rss = await Promise.all(workers.map((w) => containerRss(w.name)));
    const agent = await Promise.all(workers.map((w) => agentUsage(w)));
    const after = await hostUsedMiB();
    return {
      workers: count,
      allAdvertisedMs,
      perWorkerAdvertisedMs: { median: median(advertised), max: Math.max(...advertised) },
      containerAnonMiB: round(median(rss)),
      agentRssMiB: round(median(agent.map((a) => a.rssMiB))),
      agentAnonMiB: round(median(agent.map((a) => a.anonMiB))),
      hostUsedMiB: { before: round(before), after: round(after), perWorker: round((after - before) / count) },
      collector: await collectorRate(pool, collectorAds),
    };
  } finally {
    await Promise.all(workers.map((w) => w.remove()));
  }
}
