import { randomBytes } from 'node:crypto';
import { waitFor } from '../agent/util/wait.ts';
import { TestFleet } from '../test/support/fleet.ts';
import type { TestPool, Worker } from '../test/support/pool.ts';
import { round } from './stats.ts';

export interface FleetTimes {
  /** From the burst of idle jobs (condor_submit) until the first of them runs. */
  firstJobRunningMs: number;
  /** From the burst until every worker is in condor_status. */
  allWorkersUpMs: number;
}

export interface FleetBenchRow {
  workers: number;
  /** `wn-agent fleet run --min 0 --max N` (default --interval 10s) sees the jobs and starts the workers. */
  fleet: FleetTimes;
  /** The same workers started by hand (podman run) at the moment of the burst: no detection at all. */
  plain: FleetTimes;
  /** What the controller did meanwhile: workers it started (more than N means some did not come up), failed cycles. */
  controller: { started: number; cycleErrors: number; firstStartAfterMs: number | undefined };
  /** fleet / plain: what deciding from the pool's demand costs. */
  ratio: { firstJobRunning: number; allWorkersUp: number };
}

const sleepJobs = (count: number, fleet: string): string =>
  [
    'executable = /bin/sleep',
    'transfer_executable = False',
    'arguments = 120',
    'request_memory = 64',
    `requirements = WnFleet == "${fleet}"`,
    `queue ${count}`,
    '',
  ].join('\n');

/** Submits `count` jobs for workers advertising WnFleet == fleet, calls start(), and times the first running job and all workers up. */
async function burst(pool: TestPool, fleet: string, count: number, start: () => Promise<unknown>): Promise<FleetTimes> {
  const t0 = Date.now();
  const cluster = await pool.submit(sleepJobs(count, fleet));
  await start();
  const anyRunning = async (): Promise<boolean> =>
    (await pool.exec(['condor_q', '-allusers', '-constraint', `ClusterId == ${cluster} && JobStatus == 2`, '-af', 'ProcId'])).trim() !== '';
  let firstJobRunningMs: number | undefined;
  try {
    const allWorkersUpMs = await waitFor(
      async () => {
        if (firstJobRunningMs === undefined && (await anyRunning())) firstJobRunningMs = Date.now() - t0;
        const up = (await pool.status(`WnFleet == "${fleet}" && DynamicSlot =!= true`, ['Name'])).length;
        return up >= count ? Date.now() - t0 : undefined;
      },
      { timeoutMs: 20 * 60_000, intervalMs: 250, what: `${count} workers of ${fleet} up` },
    );
    firstJobRunningMs ??= await waitFor(async () => ((await anyRunning()) ? Date.now() - t0 : undefined), {
      timeoutMs: 5 * 60_000,
      intervalMs: 250,
      what: `a job of ${fleet} running`,
    });
    return { firstJobRunningMs, allWorkersUpMs };
  } finally {
    await pool.exec(['condor_rm', String(cluster)], { user: 'submitter' }).catch(() => undefined);
  }
}

/**
 * For each size N: N single-CPU jobs submitted at once to an empty fleet (`--min 0 --max N`), timed to the first job
 * running on a new worker and to all N workers in condor_status; and the same burst with N workers started by hand
 * at the same moment, the plain alternative that knows the demand in advance.
 */
export async function fleetBench(pool: TestPool, sizes: readonly number[]): Promise<FleetBenchRow[]> {
  const rows: FleetBenchRow[] = [];
  for (const n of sizes) {
    const plainName = `plain${randomBytes(2).toString('hex')}`;
    const workers: Worker[] = [];
    let plain: FleetTimes;
    try {
      plain = await burst(pool, plainName, n, async () => {
        workers.push(
          ...(await Promise.all(
            Array.from({ length: n }, (_, i) =>
              pool.startWorker({
                name: `wn-${pool.name}-${plainName}-${i}`,
                env: { WN_ATTR_WnFleet: plainName },
                mounts: [pool.passwordMount, pool.testConfigMount],
              }),
            ),
          )),
        );
      });
    } finally {
      await Promise.all(workers.map((w) => w.remove()));
    }
    const fleet = new TestFleet('fb', pool);
    let measured: FleetTimes;
    let controller: FleetBenchRow['controller'];
    try {
      await fleet.up(fleet.spec({ env: { WN_IDLE_TIMEOUT: '5m' } }), ['--min', '0', '--max', String(n), '--metrics-listen', 'off']);
      await fleet.observing();
      const t0 = Date.now();
      measured = await burst(pool, fleet.name, n, () => Promise.resolve());
      const events = await fleet.events();
      const started = events.filter((e) => e.event === 'fleet-worker-started');
      const first = started[0]?.time;
      controller = {
        started: started.length,
        cycleErrors: events.filter((e) => e.event === 'fleet-cycle-failed').length,
        firstStartAfterMs: typeof first === 'string' ? Date.parse(first) - t0 : undefined,
      };
    } finally {
      await fleet.down();
    }
    rows.push({
      workers: n,
      fleet: measured,
      plain,
      controller,
      ratio: {
        firstJobRunning: round(measured.firstJobRunningMs / plain.firstJobRunningMs, 2),
        allWorkersUp: round(measured.allWorkersUpMs / plain.allWorkersUpMs, 2),
      },
    });
  }
  return rows;
}
