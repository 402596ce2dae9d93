import { describe, expect, it } from 'vitest';
import { newClassAd, prototypeAd } from '../../agent/fleet/prototype.ts';

describe("the prototype of a fleet's worker ad", () => {
  it("carries the spec's resources, the fleet, the task-ID prefix, the image, operator attributes and CVMFS repositories", () => {
    const ad = prototypeAd(
      {
        image: 'wn-agent:2',
        env: { WN_ATTR_Site: 'RAL', WN_CVMFS_REPOSITORIES: 'atlas.cern.ch,cms.cern.ch', CONDOR_HOST: 'cm' },
        mounts: [],
        cpus: 8,
        memoryMiB: 16384,
        args: ['--attr', 'Rack=A12', '--attr=Zone=north', '--cvmfs-optional-repositories', 'lhcb.cern.ch'],
      },
      'atlas',
      'abcdef123456',
    );
    expect(ad).toMatchObject({
      Cpus: 8,
      Memory: 16384,
      WnFleet: 'atlas',
      ContainerTaskId: expect.stringMatching(/^atlas-abcdef-[a-z0-9]+$/),
      ContainerImage: 'wn-agent:2',
      Site: 'RAL',
      Rack: 'A12',
      Zone: 'north',
      HAS_CVMFS_atlas_cern_ch: true,
      HAS_CVMFS_cms_cern_ch: true,
      HAS_CVMFS_lhcb_cern_ch: true,
      CVMFS_HEALTHY: 'atlas.cern.ch,cms.cern.ch,lhcb.cern.ch',
    });
    expect(ad).not.toHaveProperty('CONDOR_HOST');
  });

  it("reads the spec as the worker does: --attr as yargs takes it (repeated, or several values), --cpus and WN_MEMORY over the container's limits", () => {
    const ad = prototypeAd(
      {
        image: 'i',
        env: { WN_MEMORY: '8G', CONDOR_HOST: 'cm' },
        mounts: [],
        cpus: 8,
        memoryMiB: 16384,
        args: ['--cpus', '4', '--attr', 'Rack=A12', 'Zone=north'],
      },
      'atlas',
      'abcdef123456',
    );
    expect(ad).toMatchObject({ Cpus: 4, Memory: 8192, Rack: 'A12', Zone: 'north' });
  });

  it("holds only what a real worker has: its name made as a worker's is, the engine host's CPUs and memory where the spec sets none", () => {
    const ad = prototypeAd({ image: 'i', env: { WN_ATTR_Note: 'say "hi"' }, mounts: [], args: [] }, 'wn', '000000000000', {
      cpus: 16,
      memoryMiB: 64000,
      diskKiB: 2 ** 25,
    });
    expect(ad).toMatchObject({ Cpus: 16, Memory: 64000, TotalMemory: 64000, Disk: 2 ** 25 });
    expect(String(ad.ContainerTaskId)).not.toMatch(/prototype/);
    expect(String(ad.ContainerTaskId)).toMatch(/^wn-000000-[a-z0-9]{9,}$/);
    expect(newClassAd({ A: 1, B: true, Note: 'say "hi"' })).toBe('[ A = 1; B = true; Note = "say \\"hi\\"" ]\n');
  });
});
