import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerBackend } from '../../agent/fleet/backend.ts';
import { DockerApi } from '../../agent/fleet/docker.ts';
import { waitFor } from '../../agent/util/wait.ts';
import { containersConf, image, podman, run } from '../support/exec.ts';
import { testPool as pool } from '../support/pool.ts';

// The fleet end to end: `wn-agent fleet run` in a container of the image (it needs condor_q), speaking the Docker
// Engine API of podman (`podman system service`, socket mounted in), starting real workers that join the real pool,
// for real jobs submitted by the pool's ordinary user.

const tag = randomBytes(2).toString('hex');
const fleetName = `fe${tag}`;
const dir = `/var/tmp/wn-fleet-e2e-${tag}`;
const socket = `${dir}/engine.sock`;
const controller = `wn-it-fleet-${tag}`;
let service: ChildProcess;
const backend = new DockerBackend(new DockerApi(socket), fleetName);

async function controllerEvents(): Promise<Record<string, unknown>[]> {
  const { stdout } = await run('podman', ['logs', controller]);
  return stdout.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

beforeAll(async () => {
  await mkdir(dir, { recursive: true });
  service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { env: { ...process.env, CONTAINERS_CONF: containersConf }, stdio: 'ignore' });
  await waitFor(async () => ((await new DockerApi(socket).request('GET', '/_ping').catch(() => undefined))?.status === 200 ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: 'podman system service answering',
  });
  // The workers' mounts are host paths: the engine runs here.
  const spec = {
    image,
    env: { CONDOR_HOST: pool.cm, WN_IDLE_TIMEOUT: '5m' },
    mounts: [pool.passwordMount, pool.testConfigMount],
    network: pool.network,
    cpus: 1,
    args: [],
  };
  await writeFile(`${dir}/fleet.json`, JSON.stringify(spec));
  await writeFile(`${dir}/token`, `fleet-e2e-token-${randomBytes(8).toString('hex')}\n`, { mode: 0o600 });
  // A client configuration reaching the pool with its password, for condor_q -global.
  await writeFile(
    `${dir}/condor_config`,
    [`CONDOR_HOST = ${pool.cm}`, 'use SECURITY: recommended_v9_0', 'SEC_DEFAULT_AUTHENTICATION_METHODS = PASSWORD, IDTOKENS', 'SEC_PASSWORD_FILE = /etc/condor/passwords.d/POOL',
      'UID_DOMAIN = wn.test', 'TRUST_DOMAIN = wn.test', 'LOG = /tmp', ''].join('\n'),
  );
  await podman([
    'run', '-d', '--name', controller, '--network', pool.network, '--label', `wn-pool=${pool.name}`,
    '-v', `${socket}:/run/podman/podman.sock`, '-v', `${dir}:/etc/wn-fleet:ro`, '-v', `${pool.secretDir}/POOL:/etc/condor/passwords.d/POOL:ro`,
    '--entrypoint', '/usr/bin/tini', image, '--', 'wn-agent', 'fleet', 'run', '--name', fleetName, '--spec', '/etc/wn-fleet/fleet.json',
    '--min', '0', '--max', '4', '--interval', '2s', '--admin-token-file', '/etc/wn-fleet/token', '--condor-config', '/etc/wn-fleet/condor_config',
  ]);
});
afterAll(async () => {
  await podman(['rm', '-f', controller]).catch(() => undefined);
  for (const w of await backend.list().catch(() => [])) await podman(['rm', '-f', w.id]).catch(() => undefined);
  service?.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('wn-agent fleet run against the real pool', () => {
  it('30 short jobs on an empty fleet (--min 0 --max 4): the fleet grows, every job completes, the fleet drains back to 0', async () => {
    await waitFor(
      async () => {
        const events = await controllerEvents();
        if (events.some((e) => e.event === 'fleet-observed')) return true;
        const failed = events.filter((e) => e.event === 'fleet-cycle-failed').at(-1);
        if (failed) throw new Error(String(failed.error));
        return undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'the controller observing' },
    );
    expect((await backend.list()).length).toBe(0); // no demand, no worker
    const submit = [
      'executable = /bin/sleep', 'transfer_executable = False', 'arguments = 4', 'should_transfer_files = YES', 'log = fleet.log',
      'request_memory = 64', `requirements = regexp("^${fleetName}-", ContainerTaskId)`, 'queue 30', '',
    ].join('\n');
    const cluster = await pool.submit(submit);
    let peak = 0;
    const done = await waitFor(
      async () => {
        peak = Math.max(peak, (await backend.list()).filter((w) => w.running).length);
        const rows = await pool.history(`ClusterId == ${cluster}`, ['JobStatus']);
        return rows.length >= 30 ? rows : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 1000, what: 'all 30 jobs in condor_history' },
    );
    expect(done.every(([status]) => status === '4')).toBe(true);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);
    // No demand left: drained (never killed), exited 0, removed.
    await waitFor(async () => ((await backend.list()).length === 0 ? true : undefined), { timeoutMs: 180_000, intervalMs: 1000, what: 'the fleet back to 0 workers' });
    const events = await controllerEvents();
    const started = events.filter((e) => e.event === 'fleet-worker-started').length;
    expect(started).toBeGreaterThanOrEqual(peak);
    expect(events.filter((e) => e.event === 'fleet-worker-draining').length).toBe(started);
    expect(events.filter((e) => e.event === 'fleet-worker-gone').length).toBe(started);
    // The fleet's own metrics say the same.
    const metrics = await podman(['exec', controller, 'node', '-e', 'fetch("http://127.0.0.1:9681/metrics").then((r) => r.text()).then((t) => console.log(t))']);
    expect(metrics).toMatch(new RegExp(`^wn_fleet_workers_started_total ${started}$`, 'm'));
    expect(metrics).toMatch(/^wn_fleet_idle_jobs 0$/m);
    const runHistory = await pool.history(`ClusterId == ${cluster}`, ['NumJobStarts']);
    expect(runHistory.every(([starts]) => starts === '1')).toBe(true); // no job was started twice: nothing killed
  });
});
