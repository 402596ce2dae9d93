import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podman } from '../support/exec.ts';
import { testPool as pool, type Worker } from '../support/pool.ts';

// A real job floods the admin port from inside the worker (20 connections pipelining /metrics, 20 that never read,
// hundreds idle, reopened as the server closes them) while the host probes /healthz and /readyz as a kubelet does.
// The worker is started without CAP_NET_ADMIN, so the job firewall that normally refuses jobs the admin port cannot
// be installed (`job-firewall-off`): what stands between the job and the probes is the server's own bounds.

const floodSeconds = 25;
let worker: Worker;
let machine: string;
let address: string;

beforeAll(async () => {
  worker = await pool.startWorker({
    privileged: false,
    podmanArgs: ['--cap-add', 'SYS_ADMIN', '--device', '/dev/fuse', '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw'],
    mounts: [pool.passwordMount, pool.testConfigMount],
  });
  const advertised = await worker.waitForEvent('startd-advertised', undefined, 120_000);
  machine = String((advertised.slots as string[])[0]).split('@')[1] ?? '';
  address = (await podman(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', worker.name])).trim();
});
afterAll(async () => {
  await worker.remove();
});

/** One probe as a kubelet makes it: a fresh connection, 1 s to answer (its default timeoutSeconds). */
async function probe(path: string): Promise<number> {
  try {
    return (await fetch(`http://${address}:9680${path}`, { signal: AbortSignal.timeout(1000) })).status;
  } catch {
    return 0;
  }
}

describe('the admin server under a flood from a real job (no firewall)', () => {
  it('answers every liveness and readiness probe of the host while the job floods it, and the job really flooded', async () => {
    expect(await worker.waitForEvent('job-firewall-off')).toBeDefined();
    const flood = await readFile(new URL('../fixtures/admin-flood.mjs', import.meta.url), 'utf8');
    const cluster = await pool.submit(
      [
        'executable = /usr/bin/node',
        'transfer_executable = False',
        `arguments = admin-flood.mjs 127.0.0.1 9680 ${floodSeconds}`,
        'transfer_input_files = admin-flood.mjs',
        'should_transfer_files = YES',
        'output = flood.$(Cluster).out',
        'error = flood.$(Cluster).err',
        'request_memory = 256',
        `requirements = Machine == "${machine}"`,
        'queue',
        '',
      ].join('\n'),
      { 'admin-flood.mjs': { text: flood } },
    );
    await pool.waitForQueue(cluster, 'JobStatus == 2', ['JobStatus'], 1, 120_000);
    const answers: number[] = [];
    // Probes across the flood: every 0.5 s, /healthz and /readyz in turn, for 20 s.
    for (let i = 0; i < 40; i++) {
      answers.push(await probe(i % 2 === 0 ? '/healthz' : '/readyz'));
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const [job] = await pool.waitForHistory(cluster, 1, ['JobStatus', 'ExitCode'], 120_000);
    expect(job).toEqual(['4', '0']);
    const report = JSON.parse(await pool.exec(['cat', `flood.${cluster}.out`], { user: 'submitter' })) as Record<string, number>;
    expect(report.connections).toBeGreaterThan(440); // every kind of client opened, and reopened after the server closed it
    expect(report.pipelinedRequests).toBeGreaterThanOrEqual(10_000);
    expect(answers.filter((status) => status !== 200)).toEqual([]);
    // The flood was counted and closed by the server's bounds, and the agent still serves an ordinary probe.
    expect(await probe('/healthz')).toBe(200);
  });
});
