import { collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * prom-client's gauges that end in _total, which Prometheus reserves for counters (`promtool check metrics` flags
 * them). Each is the sum of a by-type gauge kept beside it (nodejs_active_handles{type} ...), so nothing is lost.
 */
const gaugesNamedLikeCounters = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * The standard process_* and nodejs_* metrics, unprefixed, so that stock Node.js dashboards work. The event-loop
 * delay is sampled every 100 ms, not prom-client's default 10 ms: that timer alone woke an idle agent 100 times a
 * second, a measurable part of its idle CPU; a lag worth alerting on is far longer.
 */
export function collectStandardMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  for (const name of gaugesNamedLikeCounters) registry.removeSingleMetric(name);
}
