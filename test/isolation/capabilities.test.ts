import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasSysAdmin } from '../../agent/isolation/capabilities.ts';

async function status(capEff: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'wn-caps-')), 'status');
  await writeFile(file, `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\n`);
  return file;
}

describe('hasSysAdmin', () => {
  it('reads bit 21 of CapEff', async () => {
    expect(await hasSysAdmin(await status('000001fffeffffff'))).toBe(true); // privileged container here
    expect(await hasSysAdmin(await status('00000000a80425fb'))).toBe(false); // podman's default set
    expect(await hasSysAdmin(await status('0000000000200000'))).toBe(true);
  });
});
