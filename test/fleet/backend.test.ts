import { describe, expect, it } from 'vitest';
import { specHash, type WorkerSpec } from '../../agent/fleet/backend.ts';

const spec: WorkerSpec = {
  image: 'wn-agent:1',
  env: { CONDOR_HOST: 'cm', WN_IDLE_TIMEOUT: '10m' },
  mounts: ['/p:/etc/condor/passwords-orig.d/POOL:ro'],
  args: [],
};

describe('specHash: the label that tells an old worker from a new one', () => {
  it('is the same for the same spec whatever the order of its variables', () => {
    expect(specHash({ ...spec, env: { WN_IDLE_TIMEOUT: '10m', CONDOR_HOST: 'cm' } })).toBe(specHash(spec));
    expect(specHash(spec)).toMatch(/^[0-9a-f]{12}$/);
  });

  it('changes with the image, a variable, a mount, the resources or the agent flags', () => {
    const variants: WorkerSpec[] = [
      { ...spec, image: 'wn-agent:2' },
      { ...spec, env: { ...spec.env, WN_IDLE_TIMEOUT: '5m' } },
      { ...spec, mounts: [] },
      { ...spec, cpus: 8 },
      { ...spec, memoryMiB: 16384 },
      { ...spec, args: ['--job-pids-max', '100'] },
    ];
    const hashes = new Set([spec, ...variants].map(specHash));
    expect(hashes.size).toBe(variants.length + 1);
  });
});
