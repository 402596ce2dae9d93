import http from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import { collectStandardMetrics } from '../util/standard-metrics.ts';
import type { FleetController } from './controller.ts';

const phases = ['starting', 'idle', 'busy', 'draining', 'gone'] as const;

/**
 * The fleet's Prometheus metrics, computed at scrape time from the controller's last observation and counters:
 * workers by phase, the idle jobs it saw, its target, the upgrade's progress (outdated workers), its decisions.
 * The totals are counters read from the controller's own at each scrape: a restart starts them at 0, a reset.
 */
export function createFleetMetrics(controller: FleetController): Registry {
  const registry = new Registry();
  collectStandardMetrics(registry);
  const last = (): FleetController['last'] => controller.last;
  new Gauge({
    name: 'wn_fleet_workers',
    help: 'Workers of the fleet by phase, at the last observation',
    labelNames: ['phase'],
    registers: [registry],
    collect() {
      for (const phase of phases) this.set({ phase }, last()?.workers.filter((w) => w.phase === phase).length ?? 0);
    },
  });
  new Gauge({
    name: 'wn_fleet_idle_jobs',
    help: 'Idle jobs in the pool that a worker of the fleet could run',
    registers: [registry],
    collect() {
      this.set(last()?.idleJobs ?? 0);
    },
  });
  new Gauge({
    name: 'wn_fleet_target_workers',
    help: 'Workers the last plan aimed at',
    registers: [registry],
    collect() {
      this.set(last()?.plan.target ?? 0);
    },
  });
  new Gauge({
    name: 'wn_fleet_outdated_workers',
    help: 'Live workers started from an older spec (a rolling upgrade is under way while above 0)',
    registers: [registry],
    collect() {
      const s = last();
      this.set(s ? s.workers.filter((w) => w.specHash !== s.specHash && w.phase !== 'gone').length : 0);
    },
  });
  const totals: [string, string, keyof FleetController['counters']][] = [
    ['wn_fleet_workers_started_total', 'Workers started by this controller', 'started'],
    ['wn_fleet_drain_requests_total', 'Workers asked to drain by this controller', 'drained'],
    ['wn_fleet_workers_removed_total', 'Exited workers removed by this controller', 'forgotten'],
    ['wn_fleet_cycles_total', 'Observe-plan-act cycles completed', 'cycles'],
    ['wn_fleet_cycle_errors_total', 'Cycles that failed (engine or pool did not answer)', 'errors'],
  ];
  for (const [name, help, key] of totals)
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(controller.counters[key]);
      },
    });
  return registry;
}

/** GET /metrics and /healthz for the fleet controller. */
export function serveFleetMetrics(registry: Registry, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    } else if (req.method === 'GET' && req.url === '/healthz')
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}\n');
    else res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
