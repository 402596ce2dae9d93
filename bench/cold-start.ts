import { podman } from '../test/support/exec.ts';
import type { TestPool } from '../test/support/pool.ts';
import { repoRoot } from '../test/support/exec.ts';
import { advertisedAfter, removeContainer, startPlain } from './workers.ts';
import { median } from './stats.ts';

export interface ColdStartResult {
  runs: number;
  agentMedianMs: number;
  plainMedianMs: number;
  /** The plain worker with the startd's start-up reduced to what cannot be turned off (bench/plain-minimal.conf). */
  limitMedianMs: number;
  ratio: number;
  addedMs: number;
  phasesMedianMs: Record<string, number>;
  agentMs: number[];
  plainMs: number[];
  limitMs: number[];
}

/** Container start until condor_status lists the slot: the agent image as shipped, given only CONDOR_HOST and the password. */
async function agentOnce(pool: TestPool, i: number): Promise<{ total: number; phases: Record<string, number> }> {
  const name = `wn-${pool.name}-agent-${i}`;
  const t0 = Date.now();
  const worker = await pool.startWorker({ name, hostname: name, mounts: [pool.passwordMount] });
  const total = await advertisedAfter(pool, `ContainerTaskId == "${name}"`, t0);
  await worker.waitForEvent('startd-advertised');
  const lines = await worker.jsonLogs();
  const at = (event: string): number => Date.parse(String(lines.find((l) => l.event === event)?.time));
  const started = Date.parse(
    (await podman(['inspect', '-f', '{{.State.StartedAt}}', name]))
      .trim()
      .replace(/ \+0000 UTC$/, 'Z')
      .replace(' ', 'T'),
  );
  await worker.remove();
  return {
    total,
    phases: {
      runtime: started - t0,
      'agent start': at('agent-starting') - started,
      config: at('master-started') - at('agent-starting'),
      'master+startd+first ad': at('startd-advertised') - at('master-started'),
      'seen by condor_status': t0 + total - at('startd-advertised'),
      // The agent's own part: container start to condor_master exec (its Node start, bundle, checks, configuration).
      'agent own part': at('master-started') - started,
    },
  };
}

async function plainOnce(pool: TestPool, i: number, variant: 'plain' | 'limit' = 'plain'): Promise<number> {
  const name = `wn-${pool.name}-${variant}-${i}`;
  const t0 = Date.now();
  await startPlain(pool, name, variant === 'limit' ? [`${repoRoot}bench/plain-minimal.conf`] : []);
  const total = await advertisedAfter(pool, `BenchName == "${name}"`, t0);
  await removeContainer(name);
  return total;
}

/** Alternating agent and plain starts, so that drift on a noisy machine hits both alike. */
export async function coldStart(pool: TestPool, runs: number): Promise<ColdStartResult> {
  const agent: { total: number; phases: Record<string, number> }[] = [];
  const plain: number[] = [];
  const limit: number[] = [];
  for (let i = 0; i < runs; i++) {
    agent.push(await agentOnce(pool, i));
    plain.push(await plainOnce(pool, i));
    limit.push(await plainOnce(pool, i, 'limit'));
  }
  const phaseNames = Object.keys(agent[0]?.phases ?? {});
  const agentMs = agent.map((a) => a.total);
  return {
    runs,
    agentMedianMs: median(agentMs),
    plainMedianMs: median(plain),
    limitMedianMs: median(limit),
    ratio: median(agentMs) / median(plain),
    addedMs: median(agentMs) - median(plain),
    phasesMedianMs: Object.fromEntries(phaseNames.map((p) => [p, median(agent.map((a) => a.phases[p] ?? NaN))])),
    agentMs,
    plainMs: plain,
    limitMs: limit,
  };
}
