import { readFile } from 'node:fs/promises';
import { podman } from '../test/support/exec.ts';
import type { TestPool } from '../test/support/pool.ts';
import { percentile, round, window } from './stats.ts';

/** /healthz latency from outside the worker, in milliseconds; a probe without an answer in 1 s counts as failed. */
export interface ProbeLatency {
  n: number;
  p50: number;
  p99: number;
  max: number;
  failed: number;
}

export interface AdminFloodResult {
  quiet: ProbeLatency;
  /** While root in the container floods the port (as a job could with the job firewall off): the server's own bounds. */
  floodedAsRoot: ProbeLatency;
  /** While a slot account (what a job runs as) floods it: the job firewall refuses the flood. */
  floodedAsJob: ProbeLatency;
  /** floodedAsRoot p99 / quiet p99, and the same for the job. */
  ratio: { root: number; job: number };
  flood: { root: Record<string, number>; job: Record<string, number> };
}

const floodScript = new URL('../test/fixtures/admin-flood.mjs', import.meta.url);

async function probes(address: string, count: number): Promise<ProbeLatency> {
  const times: number[] = [];
  let failed = 0;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    try {
      const res = await fetch(`http://${address}:9680/healthz`, { signal: AbortSignal.timeout(1000) });
      await res.text();
      if (res.status !== 200) failed += 1;
      else times.push(performance.now() - t0);
    } catch {
      failed += 1;
    }
  }
  return {
    n: times.length,
    p50: round(percentile(times, 50)),
    p99: round(percentile(times, 99)),
    max: round(Math.max(...times)),
    failed,
  };
}

/**
 * A worker's /healthz probed from the host the way a kubelet does (a fresh connection, 1 s deadline), with no load,
 * then while the admin-flood client (20 pipelining 500 /metrics, 20 never reading, 400 idle, all reopened at once)
 * runs inside the container as root, then as a slot account. The same worker, the same probes: only the flood differs.
 */
export async function adminFlood(pool: TestPool, probeCount: number, floodSeconds: number): Promise<AdminFloodResult> {
  const worker = await pool.startWorker({ name: `wn-${pool.name}-flood`, mounts: [pool.passwordMount, pool.testConfigMount] });
  try {
    await worker.waitForEvent('startd-advertised');
    await worker.waitForEvent('job-firewall');
    const address = (await podman(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', worker.name])).trim();
    await podman(['exec', '-i', worker.name, 'sh', '-c', 'cat > /tmp/admin-flood.mjs && chmod 0644 /tmp/admin-flood.mjs'], {
      input: await readFile(floodScript, 'utf8'),
    });
    const quiet = await probes(address, probeCount);
    const flooded = async (user: string): Promise<{ latency: ProbeLatency; report: Record<string, number> }> => {
      const flood = podman(
        ['exec', '--user', user, worker.name, 'node', '/tmp/admin-flood.mjs', '127.0.0.1', '9680', String(floodSeconds)],
        {
          timeoutMs: (floodSeconds + 60) * 1000,
        },
      );
      await window(1000); // the flood's warm-up: its sockets are open before the first probe
      const latency = await probes(address, probeCount);
      return { latency, report: JSON.parse((await flood).trim().split('\n').at(-1) ?? '{}') as Record<string, number> };
    };
    const root = await flooded('root');
    const job = await flooded('wnslot1');
    return {
      quiet,
      floodedAsRoot: root.latency,
      floodedAsJob: job.latency,
      ratio: { root: round(root.latency.p99 / quiet.p99, 2), job: round(job.latency.p99 / quiet.p99, 2) },
      flood: { root: root.report, job: job.report },
    };
  } finally {
    await worker.remove();
  }
}
