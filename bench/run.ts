/**
 * npm run bench [-- --smoke]: measures the agent against the plain alternative in the same run (docs/benchmarks.md).
 * Nothing here asserts a timing; --smoke (run by npm test) takes every measurement once, small, and checks only that
 * it could be taken and that no job lost its placement or its attributes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { repoRoot } from '../test/support/exec.ts';
import { TestPool } from '../test/support/pool.ts';
import { adminFlood } from './admin-flood.ts';
import { bigWorker } from './big-worker.ts';
import { coldStart } from './cold-start.ts';
import { eventStream } from './events.ts';
import { fleetBench } from './fleet.ts';
import { idleFootprint } from './footprint.ts';
import { jobStart } from './job-start.ts';
import { longLife } from './long-life.ts';
import { scale } from './scale.ts';

const smoke = process.argv.includes('--smoke');
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const sizes = smoke
  ? {
      coldStarts: 1,
      idleS: 5,
      jobs: 4,
      clients: 5,
      eventJobs: 3,
      workers: 2,
      collectorAds: 100,
      fleets: [1],
      probes: 10,
      floodS: 8,
      bigConcurrent: 3,
      bigChurn: 5,
      lifeJobs: 6,
      lifeEvery: 3,
    }
  : {
      coldStarts: 7,
      idleS: 60,
      jobs: 200,
      clients: 50,
      eventJobs: 40,
      workers: Number(process.env.WN_BENCH_WORKERS ?? 20),
      collectorAds: 5000,
      fleets: [1, 5, 20],
      probes: 200,
      floodS: 40,
      bigConcurrent: 64,
      bigChurn: Number(process.env.WN_BENCH_BIG_CHURN ?? 2000),
      lifeJobs: Number(process.env.WN_BENCH_LIFE_JOBS ?? 10_000),
      lifeEvery: 1000,
    };
const pool = new TestPool(smoke ? 'bench-smoke' : 'bench');
const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const wanted = (part: string): boolean => !only || only.includes(part);

async function main(): Promise<void> {
  const results: Record<string, unknown> = { smoke, when: new Date().toISOString(), sizes };
  await pool.down().catch(() => undefined);
  await pool.up();
  try {
    if (wanted('cold')) {
      const cs = await coldStart(pool, sizes.coldStarts);
      results.coldStart = cs;
      console.log(
        `cold start: agent ${cs.agentMedianMs} ms, plain ${cs.plainMedianMs} ms, ratio ${cs.ratio.toFixed(2)} (+${cs.addedMs} ms); the limit (plain, startd reduced to the minimum) ${cs.limitMedianMs} ms`,
      );
      console.log(
        `  phases: ${Object.entries(cs.phasesMedianMs)
          .map(([k, v]) => `${k} ${v} ms`)
          .join(', ')}`,
      );
    }
    if (wanted('idle')) {
      const idle = await idleFootprint(pool, sizes.idleS);
      results.idle = idle;
      console.log(
        `idle: RSS ${idle.rssMiB} MiB (anonymous ${idle.anonMiB} MiB), CPU ${pct(idle.cpuOwn)} of a core (${pct(idle.cpuWithChildren)} with its child processes); start-up took ${idle.startCpuSeconds} CPU-s`,
      );
    }
    if (wanted('jobs')) {
      const js = await jobStart(pool, sizes.jobs);
      results.jobStart = js;
      console.log(
        `job start (${js.jobs} jobs each): activation to job, agent p50 ${js.agentMs.p50} p99 ${js.agentMs.p99} ms (n=${js.agentMs.n}), plain p50 ${js.plainMs.p50} p99 ${js.plainMs.p99} ms (n=${js.plainMs.n}); added p50 ${js.addedMs.p50} p99 ${js.addedMs.p99} ms`,
      );
      console.log(
        `  agent's own steps: placement p50 ${js.placementMs.p50} p99 ${js.placementMs.p99} ms, attributes p50 ${js.recordMs.p50} p99 ${js.recordMs.p99} ms; ${js.placementFailures} placement failures, ${js.attributeFailures} attribute failures`,
      );
      console.log(
        `  churn: peak RSS ${js.churn.peakRssMiB} MiB (anonymous ${js.churn.peakAnonMiB} MiB), CPU ${pct(js.churn.cpuOwn)} (${pct(js.churn.cpuWithChildren)} with children) over ${js.churn.seconds} s`,
      );
      console.log(
        `  black-hole check: job ends read ${JSON.stringify(js.blackHole.jobEnds)}, ${js.blackHole.trips} trips, ${js.blackHole.unhealthy} unhealthy spells`,
      );
      if (smoke && (js.agentMs.n < 1 || js.placementFailures > 0 || js.attributeFailures > 0))
        throw new Error('bench smoke: no job measured, or a placement or attribute recording failed');
      if (smoke && ((js.blackHole.jobEnds.success ?? 0) < js.jobs || js.blackHole.trips > 0))
        throw new Error('bench smoke: the black-hole check did not read every successful job end, or tripped on healthy jobs');
    }
    if (wanted('big')) {
      const big = await bigWorker(pool, sizes.bigConcurrent, sizes.bigChurn);
      results.bigWorker = big;
      console.log(
        `big worker (${big.cpus} CPUs, ${big.concurrent} jobs at once): job start agent p50 ${big.agentMs.p50} p99 ${big.agentMs.p99} ms (n=${big.agentMs.n}), plain p50 ${big.plainMs.p50} p99 ${big.plainMs.p99} ms (n=${big.plainMs.n}); added p50 ${big.addedMs.p50} p99 ${big.addedMs.p99} ms`,
      );
      console.log(
        `  agent CPU per job ${big.cpuPerJobMs.burst} ms (burst), ${big.cpuPerJobMs.churn} ms (churn of ${big.churn.jobs} in ${big.churn.seconds} s); peak VmRSS ${big.peak.rssMiB} MiB (anonymous ${big.peak.anonMiB}), event-loop lag p99 ${big.peak.eventLoopLagP99Ms} ms, ${big.eventsPerSecond} events/s`,
      );
      console.log(
        `  held (fds/job cgroups/inotify watches): before ${JSON.stringify(big.held.before)}, after the burst ${JSON.stringify(big.held.afterBurst)}, after the churn ${JSON.stringify(big.held.afterChurn)}; VmRSS idle ${big.rssMiB.idle} -> after ${big.rssMiB.afterChurn} MiB (anonymous ${big.anonMiB.idle} -> ${big.anonMiB.afterChurn})`,
      );
      if (smoke && (big.agentMs.n < 1 || big.held.afterChurn.jobCgroups > big.held.before.jobCgroups))
        throw new Error('bench smoke: no big-worker job measured, or job cgroups left behind');
    }
    if (wanted('life')) {
      const life = await longLife(pool, sizes.lifeJobs, sizes.lifeEvery);
      results.longLife = life;
      console.log(
        `long life: ${life.jobs} jobs in ${life.seconds} s; every ${sizes.lifeEvery} jobs (jobs, VmRSS (anonymous) MiB, V8 heap used / total MiB, external MiB, fds, backlog MiB):`,
      );
      for (const s of life.samples)
        console.log(
          `  ${s.jobs}\t${s.rssMiB} (${s.anonMiB})\t${s.heapUsedMiB} / ${s.heapTotalMiB}\t${s.externalMiB}\t${s.fds}\t${s.eventBacklogMiB}`,
        );
      const last = life.samples.at(-1);
      if (smoke && (!last || last.jobs < life.jobs || !(last.rssMiB > 0) || !(last.heapUsedMiB > 0) || !(last.eventBacklogMiB >= 0)))
        throw new Error('bench smoke: the long-lived worker did not finish its jobs, or a sample could not be read');
    }
    if (wanted('events')) {
      const ev = await eventStream(pool, sizes.clients, sizes.eventJobs);
      results.eventStream = ev;
      console.log(
        `event stream: ${ev.clients} clients, ${ev.eventsProduced} events in ${ev.seconds} s, ${ev.deliveredPerSecond} deliveries/s, ${ev.fastClientsComplete}/${ev.clients - 1} fast clients complete, lag p50 ${ev.lagMs.p50} p99 ${ev.lagMs.p99} ms; slow client ${ev.slowClient.closeCode ? `closed ${ev.slowClient.closeCode}` : 'still open'} after ${ev.slowClient.received}; RSS ${ev.rssBeforeMiB} -> ${ev.rssPeakMiB} MiB`,
      );
    }
    if (wanted('flood')) {
      const fl = await adminFlood(pool, sizes.probes, sizes.floodS);
      results.adminFlood = fl;
      const line = (l: { p50: number; p99: number; max: number; failed: number }): string =>
        `p50 ${l.p50} p99 ${l.p99} max ${l.max} ms, ${l.failed} failed`;
      console.log(
        `admin port flood, /healthz from the host: quiet ${line(fl.quiet)}; flooded by root in the container ${line(fl.floodedAsRoot)} (p99 ratio ${fl.ratio.root}); flooded by a job's account ${line(fl.floodedAsJob)} (p99 ratio ${fl.ratio.job})`,
      );
      console.log(`  flood: as root ${JSON.stringify(fl.flood.root)}; as a job ${JSON.stringify(fl.flood.job)}`);
      if (smoke && (fl.quiet.n < 1 || fl.floodedAsRoot.n < 1)) throw new Error('bench smoke: no admin probe measured');
    }
    if (wanted('scale')) {
      const sc = await scale(pool, sizes.workers, sizes.collectorAds);
      results.scale = sc;
      console.log(
        `scale: ${sc.workers} workers all advertised after ${sc.allAdvertisedMs} ms (each: median ${sc.perWorkerAdvertisedMs.median}, max ${sc.perWorkerAdvertisedMs.max} ms); container anonymous memory ${sc.containerAnonMiB} MiB, agent RSS ${sc.agentRssMiB} MiB (anonymous ${sc.agentAnonMiB}), host +${sc.hostUsedMiB.perWorker} MiB per worker`,
      );
      console.log(
        `  collector: ${'error' in sc.collector ? sc.collector.error : `${sc.collector.ads} ads in ${sc.collector.seconds} s = ${sc.collector.adsPerSecond}/s`}`,
      );
    }
    if (wanted('fleet')) {
      const rows = await fleetBench(pool, sizes.fleets);
      results.fleet = rows;
      for (const r of rows) {
        console.log(
          `fleet of ${r.workers}: burst to first job running ${r.fleet.firstJobRunningMs} ms (plain ${r.plain.firstJobRunningMs} ms, ratio ${r.ratio.firstJobRunning}), to all workers up ${r.fleet.allWorkersUpMs} ms (plain ${r.plain.allWorkersUpMs} ms, ratio ${r.ratio.allWorkersUp}); controller: first start ${r.controller.firstStartAfterMs} ms after the burst, ${r.controller.started} started, ${r.controller.cycleErrors} failed cycles`,
        );
      }
    }
  } finally {
    await pool.down();
  }
  await mkdir(`${repoRoot}.bench`, { recursive: true });
  await writeFile(
    `${repoRoot}.bench/results${smoke ? '-smoke' : ''}${only ? `-${only.join('-')}` : ''}.json`,
    `${JSON.stringify(results, null, 2)}\n`,
  );
}

await main();
