/**
 * npm run bench [-- --smoke]: measures the agent against the plain alternative in the same run (docs/benchmarks.md).
 * Nothing here asserts a timing; --smoke (run by npm test) only checks that every measurement can be taken.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { repoRoot, podman, image, run } from '../test/support/exec.ts';
import { TestPool, type Worker } from '../test/support/pool.ts';
import { waitFor } from '../agent/util/wait.ts';

const smoke = process.argv.includes('--smoke');
const pool = new TestPool(smoke ? 'bench-smoke' : 'bench');
const coldStarts = smoke ? 1 : 7;
const churnJobs = smoke ? 4 : 60;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
};
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const ms = (x: number): string => `${Math.round(x)} ms`;

async function advertisedAfter(constraint: string, t0: number): Promise<number> {
  return waitFor(async () => ((await pool.status(constraint, ['Name'])).length > 0 ? Date.now() - t0 : undefined), {
    timeoutMs: 120_000,
    intervalMs: 50,
    what: constraint,
  });
}

async function coldStartAgent(i: number): Promise<{ total: number; phases: Record<string, number> }> {
  const name = `wn-${pool.name}-agent-${i}`;
  const t0 = Date.now();
  const worker = await pool.startWorker({ name, hostname: name, mounts: [pool.passwordMount] });
  const total = await advertisedAfter(`ContainerTaskId == "${name}"`, t0);
  await worker.waitForEvent('startd-advertised');
  const lines = await worker.jsonLogs();
  const at = (event: string): number => Date.parse(String(lines.find((l) => l.event === event)?.time));
  const started = Date.parse((await podman(['inspect', '-f', '{{.State.StartedAt}}', name])).trim().replace(/ \+0000 UTC$/, 'Z').replace(' ', 'T'));
  await worker.remove();
  return {
    total,
    phases: {
      runtime: started - t0,
      'agent start': at('agent-starting') - started,
      config: at('master-started') - at('agent-starting'),
      'master+startd+first ad': at('startd-advertised') - at('master-started'),
      'seen by condor_status': t0 + total - at('startd-advertised'),
    },
  };
}

async function coldStartPlain(i: number): Promise<number> {
  const name = `wn-${pool.name}-plain-${i}`;
  const t0 = Date.now();
  await podman([
    'run', '-d', '--privileged', '--name', name, '--hostname', name, '--network', pool.network, '--label', `wn-pool=${pool.name}`,
    '-e', 'CONDOR_CONFIG=/etc/condor/condor_config', '-e', `_CONDOR_CONDOR_HOST=${pool.cm}`, '-e', `_CONDOR_BenchName="${name}"`,
    '-v', `${pool.secretDir}/POOL:/etc/condor/passwords.d/POOL:ro`, '-v', `${repoRoot}bench/plain-worker.conf:/etc/condor/config.d/99-plain.conf:ro`,
    '--entrypoint', '/usr/bin/tini', image, '--', '/usr/sbin/condor_master', '-f',
  ]);
  const total = await advertisedAfter(`BenchName == "${name}"`, t0);
  await run('podman', ['rm', '-f', '-t', '2', name]);
  return total;
}

async function agentProcess(worker: Worker): Promise<{ rssMiB: number; cpuTicks: number }> {
  const pid = (await worker.exec(['pgrep', '-f', 'wn-agent.mjs'])).trim().split('\n')[0];
  const [status, stat] = await Promise.all([worker.exec(['cat', `/proc/${pid}/status`]), worker.exec(['cat', `/proc/${pid}/stat`])]);
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssMiB: rssKiB / 1024, cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { smoke, when: new Date().toISOString() };
  await pool.down().catch(() => undefined);
  await pool.up();
  try {
    // 1. Cold start, alternating so that drift hits both alike.
    const agent: { total: number; phases: Record<string, number> }[] = [];
    const plain: number[] = [];
    for (let i = 0; i < coldStarts; i++) {
      agent.push(await coldStartAgent(i));
      plain.push(await coldStartPlain(i));
    }
    const phaseNames = Object.keys(agent[0]?.phases ?? {});
    const phases = Object.fromEntries(phaseNames.map((p) => [p, median(agent.map((a) => a.phases[p] ?? NaN))]));
    results.coldStart = { runs: coldStarts, agentMedianMs: median(agent.map((a) => a.total)), plainMedianMs: median(plain), ratio: median(agent.map((a) => a.total)) / median(plain), phasesMedianMs: phases };

    // 2 + 3. Footprint at idle and under churn; the start overhead the agent adds to every job.
    const worker = await pool.startWorker({ mounts: [pool.passwordMount, pool.testConfigMount] });
    await worker.waitForEvent('startd-advertised');
    const idleS = smoke ? 3 : 30;
    const a = await agentProcess(worker);
    await new Promise((resolve) => setTimeout(resolve, idleS * 1000)); // a measurement window, not a wait for a fact
    const b = await agentProcess(worker);
    const hz = 100;
    const idleCpu = (b.cpuTicks - a.cpuTicks) / hz / idleS;
    const churnStart = Date.now();
    const cluster = await pool.submit(['executable = /bin/true', 'transfer_executable = False', 'should_transfer_files = YES', 'log = bench.log',
      `requirements = ContainerTaskId == "${worker.name}"`, `queue ${churnJobs}`, ''].join('\n'));
    let peakRss = b.rssMiB;
    await waitFor(async () => {
      peakRss = Math.max(peakRss, (await agentProcess(worker)).rssMiB);
      return (await pool.history(`ClusterId == ${cluster}`, ['ProcId'])).length >= churnJobs ? true : undefined;
    }, { timeoutMs: 30 * 60_000, intervalMs: 1000, what: 'churn jobs done' });
    const c = await agentProcess(worker);
    const churnS = (Date.now() - churnStart) / 1000;
    const lines = await worker.jsonLogs();
    const placement = lines.filter((l) => l.event === 'job-placed').map((l) => Number(l.placementMs));
    const wrapper = lines.filter((l) => l.event === 'job-attributes-recorded').map((l) => Number(l.wrapperMs));
    results.footprint = { idleRssMiB: b.rssMiB, idleCpuFractionOfCore: idleCpu, churnPeakRssMiB: peakRss, churnCpuFractionOfCore: (c.cpuTicks - b.cpuTicks) / hz / churnS, churnJobs, churnSeconds: churnS };
    results.jobStart = {
      jobs: placement.length,
      placementFailures: lines.filter((l) => l.event === 'job-placement-failed').length,
      placementMs: { p50: percentile(placement, 50), p99: percentile(placement, 99) },
      wrapperMs: { p50: percentile(wrapper, 50), p99: percentile(wrapper, 99) },
      addedMs: { p50: percentile(placement, 50) + percentile(wrapper, 50), p99: percentile(placement, 99) + percentile(wrapper, 99) },
    };
    await worker.remove();
  } finally {
    await pool.down();
  }
  await mkdir(`${repoRoot}.bench`, { recursive: true });
  await writeFile(`${repoRoot}.bench/results${smoke ? '-smoke' : ''}.json`, `${JSON.stringify(results, null, 2)}\n`);
  const cs = results.coldStart as { agentMedianMs: number; plainMedianMs: number; ratio: number; phasesMedianMs: Record<string, number> };
  const js = results.jobStart as { jobs: number; placementFailures: number; placementMs: { p50: number; p99: number }; wrapperMs: { p50: number; p99: number }; addedMs: { p50: number; p99: number } };
  const fp = results.footprint as { idleRssMiB: number; idleCpuFractionOfCore: number; churnPeakRssMiB: number; churnCpuFractionOfCore: number };
  console.log(`cold start: agent ${ms(cs.agentMedianMs)}, plain ${ms(cs.plainMedianMs)}, ratio ${cs.ratio.toFixed(2)}`);
  console.log(`  phases: ${Object.entries(cs.phasesMedianMs).map(([k, v]) => `${k} ${ms(v)}`).join(', ')}`);
  console.log(`job start: ${js.jobs} jobs, ${js.placementFailures} placement failures; placement p50 ${js.placementMs.p50} ms p99 ${js.placementMs.p99} ms; wrapper p50 ${js.wrapperMs.p50} ms p99 ${js.wrapperMs.p99} ms`);
  console.log(`footprint: idle RSS ${fp.idleRssMiB.toFixed(1)} MiB, idle CPU ${(fp.idleCpuFractionOfCore * 100).toFixed(2)}% of a core; churn peak RSS ${fp.churnPeakRssMiB.toFixed(1)} MiB, churn CPU ${(fp.churnCpuFractionOfCore * 100).toFixed(1)}%`);
  if (smoke && (js.jobs < 1 || js.placementFailures > 0)) throw new Error('bench smoke: no job was placed, or a placement failed');
}

await main();
