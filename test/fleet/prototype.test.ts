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
      ContainerTaskId: 'atlas-abcdef-prototype',
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

  it('takes memory it does not know as large, and writes the new ClassAd syntax with strings escaped', () => {
    const ad = prototypeAd({ image: 'i', env: { WN_ATTR_Note: 'say "hi"' }, mounts: [], args: [] }, 'wn', '000000000000');
    expect(ad.Memory).toBeGreaterThan(1 << 20);
    expect(ad.Cpus).toBe(1);
    expect(newClassAd({ A: 1, B: true, Note: 'say "hi"' })).toBe('[ A = 1; B = true; Note = "say \\"hi\\"" ]\n');
  });
});
