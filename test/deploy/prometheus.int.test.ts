import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../agent/util/wait.ts';
import { podman, repoRoot } from '../support/exec.ts';
import { TestFleet } from '../support/fleet.ts';
import { promtoolProblems } from '../support/promtool.ts';

// A real Prometheus (Debian's prometheus 2.42, on the host) scraping what a site scrapes: two workers and the fleet
// controller that started them, in the test pool, with the shipped alerting rules loaded. The test asks Prometheus
// itself (its HTTP API), not the endpoints, and runs promtool check metrics on each live page.

const fleet = new TestFleet('prom');
const dir = `/var/tmp/wn-prometheus-${randomBytes(3).toString('hex')}`;
const port = 19_090 + Math.floor(Math.random() * 800);
let prometheus: ChildProcess | undefined;
let targets: { job: string; address: string }[] = [];

const ipOf = async (container: string): Promise<string> =>
  (await podman(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container])).trim();

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  const body = (await response.json()) as { status: string; data: T };
  if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body.data;
}
type Sample = { metric: Record<string, string>; value: [number, string] };
const query = (promql: string): Promise<Sample[]> =>
  api<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`).then((data) => data.result);

beforeAll(async () => {
  await fleet.up(fleet.spec(), ['--min', '2', '--max', '2', '--interval', '2s']);
  await fleet.observing();
  const workers = await waitFor(
    async () => {
      const list = (await fleet.backend.list()).filter((w) => w.running && w.address);
      if (list.length < 2) return undefined;
      const states = await Promise.all(list.map((w) => fleet.agentState({ name: w.name, address: w.address as string })));
      return states.every((s) => s === 'running') ? list : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 2000, what: 'two fleet workers running' },
  );
  targets = [
    ...workers.map((w) => ({ job: 'wn-agent', address: `${w.address}:9680` })),
    { job: 'wn-fleet', address: `${await ipOf(fleet.controller)}:9681` },
  ];
  await mkdir(`${dir}/data`, { recursive: true });
  const scrape = (job: string): string =>
    [
      `  - job_name: ${job}`,
      '    static_configs:',
      `      - targets: [${targets
        .filter((t) => t.job === job)
        .map((t) => `'${t.address}'`)
        .join(', ')}]`,
    ].join('\n');
  await writeFile(
    `${dir}/prometheus.yml`,
    [
      'global: { scrape_interval: 2s, evaluation_interval: 2s }',
      `rule_files: ['${repoRoot}deploy/prometheus/wn-agent.rules.yml']`,
      'scrape_configs:',
      scrape('wn-agent'),
      scrape('wn-fleet'),
      '',
    ].join('\n'),
  );
  prometheus = spawn(
    'prometheus',
    [`--config.file=${dir}/prometheus.yml`, `--storage.tsdb.path=${dir}/data`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: 'ignore' },
  );
  await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/-/ready`).catch(() => undefined))?.ok ? true : undefined), {
    timeoutMs: 60_000,
    intervalMs: 500,
    what: 'Prometheus ready',
  });
});
afterAll(async () => {
  prometheus?.kill('SIGKILL');
  await fleet.down();
  await rm(dir, { recursive: true, force: true });
});

describe('a real Prometheus scraping two workers and the fleet controller', () => {
  it('scrapes all three, reads the agent and fleet metrics, and loads the alerting rules', async () => {
    type Target = { labels: { job: string; instance: string }; health: string; lastError: string };
    const active = await waitFor(
      async () => {
        const { activeTargets } = await api<{ activeTargets: Target[] }>('/api/v1/targets');
        return activeTargets.length === 3 && activeTargets.every((t) => t.health === 'up') ? activeTargets : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'three targets up in Prometheus' },
    );
    expect(active.map((t) => t.labels.instance).sort()).toEqual(targets.map((t) => t.address).sort());

    const ready = await waitFor(async () => ((await query('wn_agent_ready')).length === 2 ? query('wn_agent_ready') : undefined), {
      timeoutMs: 30_000,
      intervalMs: 1000,
      what: 'wn_agent_ready from both workers',
    });
    expect(ready.map((s) => s.value[1])).toEqual(['1', '1']);
    // Each a fact Prometheus must come to hold within a few scrapes (every 2 s), whatever it held at its first.
    const holds = async (promql: string, want: string[]): Promise<void> => {
      let seen: string[] = [];
      await waitFor(
        async () => {
          seen = (await query(promql)).map((sample) => sample.value[1]);
          return JSON.stringify(seen) === JSON.stringify(want) ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 1000, what: `${promql} = ${want.join(', ')}` },
      ).catch(async (error: unknown) => {
        const failed = (await fleet.events()).filter((e) => e.event === 'fleet-cycle-failed').slice(-2);
        throw new Error(
          `${(error as Error).message}; Prometheus answered ${JSON.stringify(seen)}; last failed cycles: ${JSON.stringify(failed)}`,
        );
      });
    };
    await holds('wn_agent_startd_advertised', ['1', '1']);
    await holds('sum(wn_agent_healthy)', ['2']);
    await holds('sum(wn_fleet_workers{phase=~"idle|starting|busy"})', ['2']);
    expect((await query('wn_fleet_cycles_total'))[0]?.metric.job).toBe('wn-fleet');
    expect(await query('process_resident_memory_bytes{job="wn-agent"}')).toHaveLength(2);

    type Rule = { name: string; health: string; type: string };
    const rules = await waitFor(
      async () => {
        const { groups } = await api<{ groups: { rules: Rule[] }[] }>('/api/v1/rules');
        const all = groups.flatMap((g) => g.rules);
        return all.length === 7 && all.every((r) => r.health !== 'unknown') ? all : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000, what: 'the 7 alerting rules evaluated' },
    );
    for (const rule of rules) expect([rule.name, rule.type, rule.health]).toEqual([rule.name, 'alerting', 'ok']);
    // None fires on a healthy fleet (one may be pending: a worker is not ready for its first seconds).
    const { alerts } = await api<{ alerts: { state: string; labels: { alertname: string } }[] }>('/api/v1/alerts');
    expect(alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname)).toEqual([]);

    // Prometheus' own linter on each live page, as scraped.
    for (const target of targets) {
      const text = await (await fetch(`http://${target.address}/metrics`)).text();
      expect(promtoolProblems(text), target.address).toBe('');
    }
  });
});
