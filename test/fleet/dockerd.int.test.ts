import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { specHash } from '../../agent/fleet/spec.ts';
import { readSpecFile } from '../../agent/fleet/spec-file.ts';
import { rolloutProgress } from '../../agent/fleet/upgrade.ts';
import { waitFor } from '../../agent/util/wait.ts';
import { docker, dockerEngineDown, dockerEngineUp, dockerRun, dockerSocket, firewall, loadFromPodman } from '../support/docker-engine.ts';
import { check, image, podman, repoRoot } from '../support/exec.ts';
import { TestFleet } from '../support/fleet.ts';
import { testPool as pool } from '../support/pool.ts';

// Workers under the real Docker Engine (Debian's dockerd 20.10.24, cgroupfs driver, cgroup v1 here), not podman's
// re-implementation of its API: one started with `docker run` and the capabilities the README names (not
// --privileged, which fails on this host kind), and a fleet whose controller speaks dockerd's own API. The workers
// sit on a docker bridge network and reach the pool's central manager (on podman's network) through the host; the
// engine runs with iptables off, so the host's firewall is unchanged and podman's networks keep working.

const network = 'wn-docker-it';
const nextImage = `${image}-docker-next`;
let cmAddress = '';
let firewallBefore = '';

/** What a worker needs under Docker, short of --privileged (agent/fleet/privileges.ts gives the fleet's the same). */
const workerPrivileges = [
  '--cap-add',
  'SYS_ADMIN',
  '--cap-add',
  'NET_ADMIN',
  '--security-opt',
  'apparmor=unconfined',
  '--device',
  '/dev/fuse',
  '-v',
  '/sys/fs/cgroup:/sys/fs/cgroup:rw',
];

beforeAll(async () => {
  firewallBefore = await firewall();
  await dockerEngineUp();
  await loadFromPodman(image);
  await docker(['tag', image, nextImage]);
  if ((await dockerRun(['network', 'inspect', network])).code !== 0)
    await docker([
      'network',
      'create',
      '--driver',
      'bridge',
      '--subnet',
      '172.31.77.0/24',
      '-o',
      `com.docker.network.bridge.name=${network}`,
      network,
    ]);
  cmAddress = (await podman(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', pool.cm])).trim();
}, 900_000);
afterAll(async () => {
  await dockerRun(['network', 'rm', network]);
  await dockerEngineDown().catch(() => undefined);
});

function sleepJobs(seconds: number, requirements: string, count = 1, memory = 64): string {
  return [
    'executable = /bin/sleep',
    'transfer_executable = False',
    `arguments = ${seconds}`,
    'should_transfer_files = YES',
    'log = dockerd.log',
    `request_memory = ${memory}`,
    `requirements = ${requirements}`,
    `queue ${count}`,
    '',
  ].join('\n');
}

describe('a worker under dockerd (docker run)', () => {
  it("joins the pool, says docker and its full ID, confines a job under docker's cgroup, and drains on docker stop", async () => {
    const name = `wn-it-docker-w-${Date.now().toString(36)}`;
    const id = (
      await docker([
        'run',
        '-d',
        '--name',
        name,
        '--hostname',
        name,
        '--network',
        network,
        ...workerPrivileges,
        '-v',
        pool.passwordMount,
        '-v',
        pool.testConfigMount,
        '-e',
        `CONDOR_HOST=${cmAddress}`,
        image,
        'run',
        '--cpus',
        '2',
      ])
    ).trim();
    try {
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      const machine = `${name}-${id.slice(0, 12)}`;
      const [ad] = await waitFor(
        async () => {
          const rows = await pool.status(`Machine == "${machine}" && PartitionableSlot`, ['ContainerScheduler', 'ContainerId']);
          return rows.length > 0 ? rows : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 1000, what: 'the docker worker in the collector' },
      );
      expect(ad).toEqual(['docker', id]);

      const cluster = await pool.submit(sleepJobs(25, `Machine == "${machine}"`, 1, 128));
      await pool.waitForQueue(cluster, 'JobStatus == 2', ['JobStatus'], 1, 120_000);
      // The job's own process, its memory cgroup as the kernel says (the host's view: no cgroup namespace on v1).
      const pid = await waitFor(
        async () => (await dockerRun(['exec', name, 'pgrep', '-x', 'sleep'])).stdout.trim().split('\n')[0] || undefined,
        {
          timeoutMs: 30_000,
          intervalMs: 500,
          what: 'the job process',
        },
      );
      const cgroup = /^\d+:memory:(.+)$/m.exec(await docker(['exec', name, 'cat', `/proc/${pid}/cgroup`]))?.[1] ?? '';
      expect(cgroup.startsWith(`/docker/${id}/jobs/slot1_1/`)).toBe(true);
      const limit = await docker(['exec', name, 'cat', `/sys/fs/cgroup/memory${cgroup}/memory.limit_in_bytes`]);
      expect(Number(limit)).toBe(128 * 1048576);

      // docker stop: SIGTERM to tini, the agent drains; the running job completes.
      const stopped = docker(['stop', '-t', '120', name]);
      const [done] = await pool.waitForHistory(cluster, 1, ['JobStatus', 'ExitCode', 'NumJobStarts'], 180_000);
      expect(done).toEqual(['4', '0', '1']);
      await stopped;
      expect((await docker(['inspect', '-f', '{{.State.ExitCode}}', name])).trim()).toBe('0');
      const logs = (await dockerRun(['logs', name])).stdout;
      expect(logs).toContain('"event":"drain-completed"');
    } finally {
      await dockerRun(['rm', '-f', name]);
    }
  });
});

describe('wn-agent fleet against dockerd', () => {
  const fleet = new TestFleet('fd', pool, { engineSocket: dockerSocket });
  afterAll(async () => {
    await fleet.down();
  });

  it('grows for idle jobs, rolls out a new image, and drains back to zero', async () => {
    await fleet.up(fleet.spec({ network, env: { CONDOR_HOST: cmAddress, WN_DRAIN_TIMEOUT: '2m' } }), [
      '--min',
      '0',
      '--max',
      '2',
      '--interval',
      '2s',
    ]);
    await fleet.observing();
    const oldHash = specHash(await readSpecFile(`${fleet.dir}/fleet.json`));
    const cluster = await pool.submit(sleepJobs(30, `WnFleet == "${fleet.name}"`, 4));
    await waitFor(async () => ((await pool.countInQueue(cluster, 'JobStatus == 2')) === 2 ? true : undefined), {
      timeoutMs: 240_000,
      intervalMs: 1000,
      what: 'two jobs running on two docker workers',
    });
    const workers = (await fleet.backend.list()).filter((w) => w.running);
    expect(workers).toHaveLength(2);
    // Started by dockerd with the capabilities, not Privileged.
    const host = JSON.parse(await docker(['inspect', '-f', '{{json .HostConfig}}', workers[0]?.id as string])) as {
      Privileged: boolean;
      CapAdd: string[];
    };
    expect(host.Privileged).toBe(false);
    expect(host.CapAdd).toEqual(expect.arrayContaining(['SYS_ADMIN', 'NET_ADMIN']));

    await podman(['exec', fleet.controller, 'wn-agent', 'fleet', 'upgrade', '--spec', '/etc/wn-fleet/fleet.json', '--image', nextImage]);
    const newHash = specHash(await readSpecFile(`${fleet.dir}/fleet.json`));
    expect(newHash).not.toBe(oldHash);
    await waitFor(
      async () => {
        const { current, outdated } = await rolloutProgress(fleet.backend, newHash);
        return current >= 1 && outdated === 0 ? true : undefined;
      },
      { timeoutMs: 420_000, intervalMs: 1000, what: 'every live worker on the new image' },
    );
    const history = await pool.waitForHistory(cluster, 4, ['JobStatus', 'ExitCode'], 420_000);
    expect(history.every(([status, code]) => status === '4' && code === '0')).toBe(true);
    await waitFor(async () => ((await fleet.backend.list()).length === 0 ? true : undefined), {
      timeoutMs: 240_000,
      intervalMs: 1000,
      what: 'the fleet back to 0 workers',
    });
    const events = await fleet.events();
    const started = events.filter((e) => e.event === 'fleet-worker-started');
    expect(started.length).toBeGreaterThanOrEqual(3); // two old, at least one new
    expect(events.filter((e) => e.event === 'fleet-worker-gone').length).toBe(started.length);
    expect(events.filter((e) => e.event === 'fleet-cycle-failed')).toEqual([]);
  });

  it('leaves the host firewall as it was, and podman networks working', async () => {
    await fleet.down();
    await dockerRun(['network', 'rm', network]);
    await dockerEngineDown();
    expect(await firewall()).toBe(firewallBefore);
    await check('bash', [`${repoRoot}scripts/check-network.sh`], { timeoutMs: 120_000 });
  });
});
