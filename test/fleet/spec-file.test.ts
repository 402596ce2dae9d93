import { describe, expect, it } from 'vitest';
import { validateSpec } from '../../agent/fleet/spec-file.ts';

describe('the fleet spec file', () => {
  it('accepts a full spec and fills the defaults', () => {
    expect(validateSpec({ image: 'wn-agent:1' }, 'f.json')).toEqual({
      image: 'wn-agent:1',
      env: {},
      mounts: [],
      network: undefined,
      cpus: undefined,
      memoryMiB: undefined,
      args: [],
    });
    const full = {
      image: 'i',
      env: { CONDOR_HOST: 'cm' },
      mounts: ['/a:/b:ro'],
      network: 'n',
      cpus: 8,
      memoryMiB: 16384,
      args: ['--idle-timeout', '10m'],
    };
    expect(validateSpec(full, 'f.json')).toEqual(full);
  });

  it.each([
    [[], '"(top level)" must be a JSON object'],
    [{}, '"image" must be an image reference'],
    [{ image: 'i', env: { A: 1 } }, '"env" must be an object of strings'],
    [{ image: 'i', env: { WN_ADMIN_TOKEN: 'x' } }, 'without WN_ADMIN_TOKEN'],
    [{ image: 'i', cpus: 0 }, '"cpus" must be a positive number'],
    [{ image: 'i', mounts: '/a:/b' }, '"mounts" must be an array of strings'],
    [{ image: 'i', replicas: 3 }, '"replicas" must be one of'],
  ])('refuses %j naming the file and the field', (raw, message) => {
    expect(() => validateSpec(raw, 'fleet.json')).toThrow(message);
    expect(() => validateSpec(raw, 'fleet.json')).toThrow('--spec fleet.json');
  });
});
