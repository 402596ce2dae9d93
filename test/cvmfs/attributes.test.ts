import { describe, expect, it } from 'vitest';
import { cvmfsAd, healthAttribute, revisionAttribute } from '../../agent/cvmfs/attributes.ts';
import { renderDefaultLocal } from '../../agent/cvmfs/client-config.ts';
import { parseConfig } from '../../agent/config/parse.ts';

describe('CVMFS machine ad fragment', () => {
  it('names attributes after the repository, dots and dashes as underscores', () => {
    expect(healthAttribute('atlas.cern.ch')).toBe('HAS_CVMFS_atlas_cern_ch');
    expect(healthAttribute('sw-nightlies.hsf.org')).toBe('HAS_CVMFS_sw_nightlies_hsf_org');
    expect(revisionAttribute('cms.cern.ch')).toBe('CVMFS_cms_cern_ch_REVISION');
  });

  it('publishes health, known revisions and the healthy list for the START clause', () => {
    expect(
      cvmfsAd([
        { repo: 'atlas.cern.ch', healthy: true, revision: 12345 },
        { repo: 'cms.cern.ch', healthy: false },
        { repo: 'lhcb.cern.ch', healthy: true },
      ]),
    ).toBe(
      'HAS_CVMFS_atlas_cern_ch = true\nCVMFS_atlas_cern_ch_REVISION = 12345\nHAS_CVMFS_cms_cern_ch = false\nHAS_CVMFS_lhcb_cern_ch = true\nCVMFS_HEALTHY = "atlas.cern.ch,lhcb.cern.ch"\n',
    );
  });
});

describe('CVMFS options', () => {
  it('defaults and default.local', () => {
    const { cvmfs } = parseConfig({
      condorHost: 'cm',
      cvmfsRepositories: 'atlas.cern.ch, cms.cern.ch',
      cvmfsOptionalRepositories: 'lhcb.cern.ch',
      cvmfsHttpProxy: 'http://squid:3128;DIRECT',
    });
    expect(cvmfs).toEqual({
      required: ['atlas.cern.ch', 'cms.cern.ch'],
      optional: ['lhcb.cern.ch'],
      mode: 'auto',
      mountRoot: '/cvmfs',
      httpProxy: 'http://squid:3128;DIRECT',
      cacheBase: '/var/lib/cvmfs',
      quotaMiB: 4000,
      probeIntervalMs: 30_000,
      probeTimeoutMs: 10_000,
    });
    expect(renderDefaultLocal(cvmfs)).toBe(
      "# Written by wn-agent at start from its --cvmfs-* options; edits are lost.\nCVMFS_REPOSITORIES='atlas.cern.ch,cms.cern.ch,lhcb.cern.ch'\nCVMFS_HTTP_PROXY='http://squid:3128;DIRECT'\nCVMFS_CACHE_BASE='/var/lib/cvmfs'\nCVMFS_QUOTA_LIMIT='4000'\nCVMFS_MOUNT_DIR='/cvmfs'\n",
    );
  });

  it.each([
    [{ cvmfsRepositories: 'atlas' }, '--cvmfs-repositories (WN_CVMFS_REPOSITORIES)'],
    [{ cvmfsRepositories: 'ATLAS.cern.ch' }, '--cvmfs-repositories (WN_CVMFS_REPOSITORIES)'],
    [
      { cvmfsRepositories: 'a.cern.ch', cvmfsOptionalRepositories: 'a.cern.ch' },
      '--cvmfs-optional-repositories (WN_CVMFS_OPTIONAL_REPOSITORIES)',
    ],
    [{ cvmfsMode: 'nfs' }, '--cvmfs-mode (WN_CVMFS_MODE)'],
    [{ cvmfsProbeInterval: 'often' }, '--cvmfs-probe-interval (WN_CVMFS_PROBE_INTERVAL)'],
    [{ cvmfsProbeTimeout: '1ms' }, '--cvmfs-probe-timeout (WN_CVMFS_PROBE_TIMEOUT)'],
    [{ cvmfsQuota: 'big' }, '--cvmfs-quota (WN_CVMFS_QUOTA)'],
    [{ cvmfsHttpProxy: 'http://a b' }, '--cvmfs-http-proxy (WN_CVMFS_HTTP_PROXY)'],
    [{ cvmfsMountRoot: 'cvmfs' }, '--cvmfs-mount-root (WN_CVMFS_MOUNT_ROOT)'],
    // default.local is sourced by the CVMFS client's shell scripts: a line break would add a setting of its own.
    [{ cvmfsCacheBase: '/var/lib/cvmfs\nCVMFS_SERVER_URL=http://evil/' }, '--cvmfs-cache-base (WN_CVMFS_CACHE_BASE)'],
    [{ cvmfsMountRoot: '/cvmfs $(reboot)' }, '--cvmfs-mount-root (WN_CVMFS_MOUNT_ROOT)'],
  ])('%j is refused, naming %s', (raw, name) => {
    expect(() => parseConfig({ condorHost: 'cm', ...raw })).toThrow(name);
  });
});
