import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { specHash, type WorkerSpec } from '../../agent/fleet/spec.ts';
import { FleetController } from '../../agent/fleet/controller.ts';
import { createFleetMetrics, serveFleetMetrics } from '../../agent/fleet/metrics.ts';
import { promtoolProblems } from '../support/promtool.ts';

describe('fleet metrics', () => {
  it('serves workers by phase, idle jobs, target, outdated workers and decision totals from the last cycle', async () => {
    const spec: WorkerSpec = { image: 'i', env: {}, mounts: [], args: [] };
    const workers = [
      { id: 'a', name: 'f-a', specHash: 'old', running: true, address: 'a', startedAt: 1 },
      { id: 'b', name: 'f-b', specHash: specHash(spec), running: true, address: 'b', startedAt: 2 },
    ];
    const controller = new FleetController({
      backend: { list: async () => workers, start: async () => 'c', forget: async () => undefined },
      spec: async () => spec,
      limits: { min: 0, max: 4, maxSurge: 1, maxUnavailable: 1, jobsPerWorker: 1 },
      demand: async () => 5,
      credentials: { key: 'x'.repeat(20) },
      intervalMs: 10,
      log: pino({ level: 'silent' }),
      agent: async ({ address }) => ({ status: 200, body: { state: 'running', advertised: true, jobs: address === 'a' ? [{}] : [] } }),
    });
    await controller.cycle();
    const server = await serveFleetMetrics(createFleetMetrics(controller), '127.0.0.1', 0);
    const port = (server.address() as { port: number }).port;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    server.close();
    expect(text).toMatch(/^wn_fleet_workers\{phase="busy"\} 1$/m);
    expect(text).toMatch(/^wn_fleet_workers\{phase="idle"\} 1$/m);
    expect(text).toMatch(/^wn_fleet_idle_jobs 5$/m);
    expect(text).toMatch(/^wn_fleet_outdated_workers 1$/m);
    expect(text).toMatch(/^wn_fleet_cycles_total 1$/m);
    expect(text).toMatch(/^wn_fleet_workers_started_total [1-9]\d*$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(promtoolProblems(text)).toBe('');
  });
});
