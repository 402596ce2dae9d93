import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/exec.ts';

// The shipped alerting rules through Prometheus' own tool (Debian's prometheus package): they parse, and each alert
// fires on the series that should fire it, with its labels and texts, and not before (wn-agent.rules.test.yml).
const dir = `${repoRoot}deploy/prometheus`;

function promtool(args: string[]): { code: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw new Error(`promtool could not run (scripts/setup-host.sh installs it): ${result.error.message}`);
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('deploy/prometheus alerting rules', () => {
  it('pass promtool check rules', () => {
    const { code, output } = promtool(['check', 'rules', 'wn-agent.rules.yml']);
    expect(output).toContain('SUCCESS: 7 rules found');
    expect(code).toBe(0);
  });

  it('pass their unit tests (promtool test rules), one test per alert', async () => {
    const { code, output } = promtool(['test', 'rules', 'wn-agent.rules.test.yml']);
    expect(output).toContain('SUCCESS');
    expect(code).toBe(0);
    const rules = await readFile(`${dir}/wn-agent.rules.yml`, 'utf8');
    const tests = await readFile(`${dir}/wn-agent.rules.test.yml`, 'utf8');
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    expect(alerts).toHaveLength(7);
    for (const alert of alerts) expect(tests).toContain(`alertname: ${alert}`);
  });

  it('name only metrics the agent and the fleet export', async () => {
    const rules = await readFile(`${dir}/wn-agent.rules.yml`, 'utf8');
    const sources = (
      await Promise.all(['agent/admin/metrics.ts', 'agent/fleet/metrics.ts'].map((f) => readFile(`${repoRoot}${f}`, 'utf8')))
    ).join('\n');
    const named = new Set([...rules.matchAll(/\b(wn_(?:agent|fleet)_\w+)/g)].map((m) => m[1] as string));
    expect(named.size).toBeGreaterThan(5);
    for (const metric of named) expect(sources, metric).toContain(`'${metric}'`);
  });
});
