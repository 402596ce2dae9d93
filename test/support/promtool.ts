import { spawnSync } from 'node:child_process';

/**
 * What `promtool check metrics` (Prometheus' own linter, Debian's prometheus package) says about a metrics page:
 * '' when it is clean. scripts/setup-host.sh installs it.
 */
export function promtoolProblems(metricsText: string): string {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: metricsText, encoding: 'utf8', timeout: 30_000 });
  if (result.error) throw new Error(`promtool could not run (scripts/setup-host.sh installs it): ${result.error.message}`);
  return `${result.stdout}${result.stderr}`.trim();
}
