import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { drainOptions } from '../../agent/commands/drain.ts';
import { statusOptions } from '../../agent/commands/status.ts';
import { tailOptions } from '../../agent/commands/tail.ts';
import { fleetOptions } from '../../agent/fleet/options.ts';

// Every command declares its options in a table; the README has one table per command (run's is checked in
// test/config/run-options.test.ts). An option added to a command, dropped, or given another default and not so in
// the README fails here.
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('### Options of the other commands'), readme.indexOf('## Event stream'));

/** The README's rows under `#### \`wn-agent <command>\``: flag -> default as written. */
function readmeTable(command: string): Map<string, string> {
  const start = section.indexOf(`#### \`wn-agent ${command}\``);
  if (start < 0) return new Map();
  const end = section.indexOf('####', start + 1);
  const rows = section.slice(start, end < 0 ? undefined : end).split('\n');
  const out = new Map<string, string>();
  for (const row of rows.filter((line) => line.startsWith('| `--'))) {
    const [, flag = '', fallback = ''] = row.split(/(?<!\\)\|/).map((cell) => cell.trim());
    out.set(/`--([a-z0-9-]+)`/.exec(flag)?.[1] ?? '', fallback.replaceAll('`', '').trim());
  }
  return out;
}

describe.each([
  ['drain', drainOptions],
  ['status', statusOptions],
  ['tail', tailOptions],
  ['fleet', fleetOptions],
])('wn-agent %s', (command, table) => {
  it("has the README's table: the same options, with the same defaults", () => {
    const documented = readmeTable(command);
    expect([...documented.keys()].sort()).toEqual(table.map((row) => row.flag).sort());
    for (const row of table) expect(documented.get(row.flag), row.flag).toBe(row.default === undefined ? '' : String(row.default));
  });

  it('declares each option once', () => {
    const flags = table.map((row) => row.flag);
    expect(new Set(flags).size).toBe(flags.length);
  });
});
