import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { drainOptions } from '../../agent/commands/drain.ts';
import { statusOptions } from '../../agent/commands/status.ts';
import { tailOptions } from '../../agent/commands/tail.ts';
import { fleetOptions } from '../../agent/fleet/options.ts';

// Every command declares its options in a table; the README names each one (run's has its own table, checked in
// test/config/run-options.test.ts). An option added to a command and not to the README fails here.
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe.each([
  ['drain', drainOptions],
  ['status', statusOptions],
  ['tail', tailOptions],
  ['fleet', fleetOptions],
])('wn-agent %s', (_command, table) => {
  it('has each option named in the README', () => {
    for (const { flag } of table) expect(readme, flag).toMatch(new RegExp(`--${flag}\\b`));
  });

  it('declares each option once', () => {
    const flags = table.map((row) => row.flag);
    expect(new Set(flags).size).toBe(flags.length);
  });
});
