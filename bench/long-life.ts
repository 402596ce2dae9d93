import { waitFor } from '../agent/util/wait.ts';
import type { TestPool, Worker } from '../test/support/pool.ts';
import { held, submitSleepers } from './big-worker.ts';
import { agentUsage } from './process-usage.ts';
import { round } from './stats.ts';
import { benchConf } from './workers.ts';

export interface LifeSample {
  /** Jobs the agent had seen finish (wn_agent_jobs_finished_total). */
  jobs: number;
  rssMiB: number;
  /** RssAnon: the agent's own pages; the rest of VmRSS is node's code and data read from its file, shared and clean. */
  anonMiB: number;
  heapUsedMiB: number;
  /** What V8 holds for its heap, used or not: RSS above heap total + external is the C allocator's. */
  heapTotalMiB: number;
  externalMiB: number;
  fds: number;
  eventBacklogMiB: number;
}

export interface LongLifeResult {
  jobs: number;
  seconds: number;
  samples: LifeSample[];
}

/** Named series of the worker's own /metrics page. */
async function metrics(worker: Worker, names: readonly string[]): Promise<Record<string, number>> {
  const text = await worker.exec(['node', '-e', 'fetch("http://127.0.0.1:9680/metrics").then(async (r) => console.log(await r.text()))']);
  return Object.fromEntries(names.map((name) => [name, Number(new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(text)?.[1])]));
}

async function sample(worker: Worker, jobs: number): Promise<LifeSample> {
  const [usage, kernel, m] = await Promise.all([
    agentUsage(worker),
    held(worker),
    metrics(worker, [
      'nodejs_heap_size_used_bytes',
      'nodejs_heap_size_total_bytes',
      'nodejs_external_memory_bytes',
      'wn_agent_event_backlog_bytes',
    ]),
  ]);
  return {
    jobs,
    rssMiB: round(usage.rssMiB),
    anonMiB: round(usage.anonMiB),
    heapUsedMiB: round((m.nodejs_heap_size_used_bytes ?? NaN) / 1048576),
    heapTotalMiB: round((m.nodejs_heap_size_total_bytes ?? NaN) / 1048576),
    externalMiB: round((m.nodejs_external_memory_bytes ?? NaN) / 1048576),
    fds: kernel.fds,
    eventBacklogMiB: round((m.wn_agent_event_backlog_bytes ?? NaN) / 1048576),
  };
}

/**
 * A long life: one agent worker (64 CPUs advertised, so the pool's pace sets the rate) runs `jobs` short jobs; its
 * RSS, V8 heap, descriptors and event backlog are sampled every `every` finished jobs. A leak shows as growth from
 * sample to sample once the backlog is full (it fills by design, up to --event-backlog events).
 */
export async function longLife(pool: TestPool, jobs: number, every: number): Promise<LongLifeResult> {
  const agent = await pool.startWorker({
    name: `wn-${pool.name}-life`,
    mounts: [pool.passwordMount, pool.testConfigMount, `${benchConf}:/etc/wn-agent/condor.d/70-bench.conf:ro`],
    agentArgs: ['--cpus', '64', '--memory', '16G'],
  });
  try {
    await agent.waitForEvent('startd-advertised');
    const samples = [await sample(agent, 0)];
    const started = Date.now();
    await submitSleepers(pool, `ContainerTaskId == "${agent.name}"`, jobs, 0);
    for (let next = every; next <= jobs; next += every) {
      const done = await waitFor(
        async () => {
          const finished = (await metrics(agent, ['wn_agent_jobs_finished_total'])).wn_agent_jobs_finished_total ?? 0;
          return finished >= next ? finished : undefined;
        },
        { timeoutMs: 60 * 60_000, intervalMs: 1000, what: `${next} jobs finished on the long-lived worker` },
      );
      samples.push(await sample(agent, done));
    }
    return { jobs, seconds: round((Date.now() - started) / 1000), samples };
  } finally {
    await agent.remove();
  }
}
