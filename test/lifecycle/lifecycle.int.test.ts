import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../agent/util/wait.ts';
import { podman } from '../support/exec.ts';
import { testPool as pool, type Worker } from '../support/pool.ts';

// Real workers in the real test pool: idle exit, drain on SIGTERM, vacate at the deadline, master supervision,
// the admin socket and the HTTP endpoints.

const workers: Worker[] = [];
afterAll(async () => {
  for (const worker of workers) await worker.remove();
});

async function start(agentArgs: string[] = []): Promise<Worker> {
  const worker = await pool.startWorker({ mounts: [pool.passwordMount, pool.testConfigMount], agentArgs });
  workers.push(worker);
  await worker.waitForEvent('startd-advertised');
  return worker;
}

function sleepJob(seconds: number, worker: Worker): string {
  return [
    'executable = /bin/sleep',
    'transfer_executable = False',
    `arguments = ${seconds}`,
    'should_transfer_files = YES',
    'log = life.log',
    `requirements = ContainerTaskId == "${worker.name}"`,
    'queue',
    '',
  ].join('\n');
}

async function times(worker: Worker): Promise<{ started: number; finished: number }> {
  const [started, finished] = (await podman(['inspect', '-f', '{{.State.StartedAt.Unix}} {{.State.FinishedAt.Unix}}', worker.name]))
    .trim()
    .split(' ')
    .map(Number);
  return { started: started ?? 0, finished: finished ?? 0 };
}

const lastLine = async (worker: Worker): Promise<Record<string, unknown> | undefined> => (await worker.jsonLogs()).at(-1);

describe('idle exit', () => {
  it('--idle-timeout 20s: exits 0 on its own, never while a job runs, 20 s after the last job ended', async () => {
    const worker = await start(['--idle-timeout', '20s']);
    const cluster = await pool.submit(sleepJob(25, worker));
    expect(await worker.waitExit(180_000)).toBe(0);
    const [job] = await pool.waitForHistory(cluster, 1, ['JobStatus', 'ExitCode', 'CompletionDate', 'NumJobStarts']);
    expect(job?.slice(0, 2)).toEqual(['4', '0']); // the job was not cut short
    expect(job?.[3]).toBe('1');
    const { started, finished } = await times(worker);
    expect(finished - started).toBeGreaterThanOrEqual(20 + 25);
    expect(finished - Number(job?.[2])).toBeGreaterThanOrEqual(19); // idle counted from the end of the job (1 s clock granularity)
    expect(await lastLine(worker)).toMatchObject({ event: 'summary', reason: 'idle', exitCode: 0, jobsRun: 1, jobsVacated: 0 });
  });
});

describe('drain', () => {
  it('SIGTERM during a job that ends within --drain-timeout: the job completes, the worker exits 0', async () => {
    const worker = await start(['--drain-timeout', '2m']);
    const cluster = await pool.submit(sleepJob(12, worker));
    await worker.waitForEvent('job-attributes-recorded');
    await podman(['kill', '-s', 'TERM', worker.name]);
    expect(await worker.waitExit(180_000)).toBe(0);
    const [job] = await pool.waitForHistory(cluster, 1, ['JobStatus', 'ExitCode', 'NumJobStarts']);
    expect(job).toEqual(['4', '0', '1']);
    expect(await lastLine(worker)).toMatchObject({
      event: 'summary',
      reason: 'signal',
      exitCode: 0,
      drain: { completed: true, vacated: 0 },
    });
  });

  it('SIGTERM with a drain deadline shorter than the job: exit 5, the job goes back to the queue idle and completes on another worker', async () => {
    const worker = await start(['--drain-timeout', '5s']);
    const cluster = await pool.submit(
      sleepJob(40, worker).replace(`requirements = ContainerTaskId == "${worker.name}"`, 'requirements = ContainerTaskId =!= undefined'),
    );
    await worker.waitForEvent('job-attributes-recorded', (line) => line.jobId === `${cluster}.0`);
    await podman(['kill', '-s', 'TERM', worker.name]);
    expect(await worker.waitExit(180_000)).toBe(5);
    expect(await lastLine(worker)).toMatchObject({
      event: 'summary',
      reason: 'signal',
      exitCode: 5,
      jobsVacated: 1,
      drain: { completed: false, vacated: 1 },
    });
    const [queued] = await waitFor(
      async () => {
        const rows = (await pool.exec(['condor_q', '-allusers', `${cluster}`, '-af', 'JobStatus', 'NumJobStarts'])).trim();
        return rows.startsWith('1 ') ? [rows] : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: `job ${cluster}.0 idle again` },
    );
    expect(queued).toBe('1 1'); // idle, not held, started once
    const other = await start();
    const [job] = await pool.waitForHistory(cluster, 1, ['JobStatus', 'ExitCode', 'LastRemoteHost'], 180_000);
    expect(job?.slice(0, 2)).toEqual(['4', '0']);
    expect(job?.[2]).toContain(other.name);
  });

  it('`wn-agent drain` inside the worker drains it like a signal', async () => {
    const worker = await start();
    const answer = await worker.exec(['wn-agent', 'drain', '--timeout', '30s']);
    expect(JSON.parse(answer)).toEqual({ drain: 'accepted' });
    expect(await worker.waitExit(120_000)).toBe(0);
    expect(await lastLine(worker)).toMatchObject({ event: 'summary', reason: 'drain-request', exitCode: 0 });
  });
});

describe('supervision and the admin endpoints', () => {
  it('kill -9 of condor_master is followed by a new master and the slot advertised again', async () => {
    const worker = await start(['--idle-timeout', '0']);
    const before = await worker.exec(['pgrep', '-x', 'condor_master']);
    await worker.exec(['pkill', '-9', '-x', 'condor_master']);
    const again = await worker.waitForEvent('startd-advertised', (line) => line.masterRestarts === 1, 90_000);
    expect(again).toMatchObject({ masterRestarts: 1 });
    const lines = await worker.jsonLogs();
    expect(lines.some((line) => line.event === 'master-exited' && line.expected === false && line.signal === 'SIGKILL')).toBe(true);
    expect(lines.some((line) => line.event === 'master-restarting')).toBe(true);
    expect((await worker.exec(['pgrep', '-x', 'condor_master'])).trim()).not.toBe(before.trim());
    const slots = await pool.status(`ContainerTaskId == "${worker.name}"`, ['Name']);
    expect(slots.length).toBe(1);
    // Still serving after the restart.
    const cluster = await pool.submit(sleepJob(1, worker));
    expect((await pool.waitForHistory(cluster, 1, ['JobStatus']))[0]).toEqual(['4']);
  });

  it('/healthz, /readyz and /metrics answer on --admin-listen; readiness drops while draining', async () => {
    const worker = await start(['--drain-timeout', '1m']);
    const get = async (path: string): Promise<{ status: number; body: string }> => {
      const out = await worker.exec([
        'node',
        '-e',
        `fetch("http://127.0.0.1:9680${path}").then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })))`,
      ]);
      return JSON.parse(out) as { status: number; body: string };
    };
    expect(await get('/healthz')).toMatchObject({ status: 200 });
    expect(await get('/readyz')).toEqual({ status: 200, body: '{"ready":true,"state":"running","reasons":[]}\n' });
    const metrics = (await get('/metrics')).body;
    expect(metrics).toContain('wn_agent_state{state="running"} 1');
    // The standard names, so that stock Node.js dashboards work; the build; counters end in _total.
    expect(metrics).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds [\d.e-]+/m);
    expect(metrics).toMatch(/^wn_agent_build_info\{version="[^"]+",revision="[^"]+"\} 1$/m);
    expect(metrics).toMatch(/^wn_agent_master_restarts_total 0$/m);
    expect(metrics).not.toMatch(/^wn_agent_process_/m);
    const cluster = await pool.submit(sleepJob(15, worker));
    await worker.waitForEvent('job-started', (line) => line.jobId === `${cluster}.0`);
    expect(await get('/metrics')).toMatchObject({
      body: expect.stringMatching(/wn_agent_job_memory_bytes\{slot="slot1_1"\} \d+/), // by slot: no series per job
    });
    await podman(['kill', '-s', 'TERM', worker.name]);
    await worker.waitForEvent('drain-started');
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: false, state: 'draining' });
    expect(await worker.waitExit(120_000)).toBe(0);
  });
});
