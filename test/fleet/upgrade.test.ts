import { chmod, chown, mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { specHash } from '../../agent/fleet/spec.ts';
import { type BackendWorker, type FleetBackend } from '../../agent/fleet/backend.ts';
import { fleetUpgrade } from '../../agent/fleet/command.ts';
import { readSpecFile, validateSpec } from '../../agent/fleet/spec-file.ts';
import { parseEnvChanges, rolloutProgress, upgradeSpecFile } from '../../agent/fleet/upgrade.ts';

async function specFile(spec: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'wn-upgrade-')), 'fleet.json');
  await writeFile(file, JSON.stringify(spec), { mode: 0o640 });
  return file;
}

describe('wn-agent fleet upgrade', () => {
  it('writes the new image and environment whole, keeping the file mode, and says both hashes', async () => {
    const original = { image: 'wn-agent:1', env: { CONDOR_HOST: 'cm', WN_IDLE_TIMEOUT: '5m' }, cpus: 2 };
    const file = await specFile(original);
    const result = await upgradeSpecFile(file, { image: 'wn-agent:2', env: { WN_IDLE_TIMEOUT: '', WN_DRAIN_TIMEOUT: '1h' } });
    const written = JSON.parse(await readFile(file, 'utf8')) as unknown;
    expect(written).toEqual({ image: 'wn-agent:2', env: { CONDOR_HOST: 'cm', WN_DRAIN_TIMEOUT: '1h' }, cpus: 2 });
    expect(result).toEqual({ before: specHash(validateSpec(original, file)), after: specHash(validateSpec(written, file)), changed: true });
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    expect(await readdir(join(file, '..'))).toEqual(['fleet.json']); // no temporary file left behind
  });

  it('writes a spec the controller reads whatever the umask: root as owner, the old group and mode less group/other write', async () => {
    const file = await specFile({ image: 'wn-agent:1' });
    await chown(file, 1000, 1000);
    await chmod(file, 0o664);
    const umask = process.umask(0o077);
    try {
      await upgradeSpecFile(file, { image: 'wn-agent:2' });
    } finally {
      process.umask(umask);
    }
    const { uid, gid, mode } = await stat(file);
    expect({ uid, gid, mode: mode & 0o777 }).toEqual({ uid: 0, gid: 1000, mode: 0o644 });
    await expect(readSpecFile(file)).resolves.toMatchObject({ image: 'wn-agent:2' });
  });

  it('leaves the file alone when nothing changes, and when the new spec would be invalid', async () => {
    const file = await specFile({ image: 'wn-agent:1' });
    const before = await readFile(file, 'utf8');
    expect((await upgradeSpecFile(file, { image: 'wn-agent:1' })).changed).toBe(false);
    await expect(upgradeSpecFile(file, { image: '' })).rejects.toThrow('"image" must be an image reference');
    await expect(upgradeSpecFile(file, { env: { WN_ADMIN_TOKEN: 'x' } })).rejects.toThrow('without WN_ADMIN_TOKEN');
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('parses --env entries and names the flag on a bad one', () => {
    expect(parseEnvChanges(['A=1', 'B=', 'C=x=y'])).toEqual({ A: '1', B: '', C: 'x=y' });
    expect(() => parseEnvChanges(['no-equals'])).toThrow('--env: expected KEY=VALUE');
  });

  it('refuses an upgrade with nothing to change, naming the flags', async () => {
    const file = await specFile({ image: 'wn-agent:1' });
    await expect(fleetUpgrade({ spec: file })).rejects.toThrow('--image: give --image and/or --env');
    await expect(fleetUpgrade({ image: 'x' })).rejects.toThrow('--spec: required');
    await expect(fleetUpgrade({ spec: file, image: 'x', wait: 'later' })).rejects.toThrow('--wait: expected a duration');
  });

  it('counts live workers on the new spec and outdated ones; exited workers count as neither', async () => {
    const worker = (specHash: string, running: boolean): BackendWorker => ({
      id: specHash + String(running),
      name: 'w',
      specHash,
      running,
      startedAt: 0,
    });
    const backend: FleetBackend = {
      list: () => Promise.resolve([worker('new', true), worker('old', true), worker('old', false), worker('new', true)]),
      start: () => Promise.reject(new Error('not here')),
      forget: () => Promise.resolve(),
    };
    expect(await rolloutProgress(backend, 'new')).toEqual({ current: 2, outdated: 1 });
  });
});
