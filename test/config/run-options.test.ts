import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runOptions } from '../../agent/config/run-options.ts';

// The README's configuration table is what operators read: it must list exactly the options the agent takes.
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('### What the agent configures'));
const documented = new Map<string, string>();
for (const row of section.split('\n').filter((line) => line.startsWith('| `--'))) {
  const [, flags = '', variables = ''] = row.split('|');
  for (const [, flag] of flags.matchAll(/`--([a-z0-9-]+)/g)) documented.set(flag ?? '', variables);
}

describe("wn-agent run's options", () => {
  it('are the rows of the README configuration table, no more and no fewer', () => {
    expect([...documented.keys()].sort()).toEqual(runOptions.map((o) => o.flag).sort());
  });

  it('each name their WN_ variable in the table (--attr: WN_ATTR_<Name>)', () => {
    for (const { flag } of runOptions) {
      const variable = flag === 'attr' ? 'WN_ATTR_<Name>' : `WN_${flag.toUpperCase().replaceAll('-', '_')}`;
      expect(documented.get(flag), flag).toContain(variable);
    }
  });
});
