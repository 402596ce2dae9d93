import { describe, expect, it } from 'vitest';
import { cgroupDir, discoverFromText } from '../../agent/cgroup/discover.ts';
import { parseMountInfo, parseProcCgroup } from '../../agent/util/mountinfo.ts';

// Real formats: this machine's hybrid layout seen from a podman container without a cgroup namespace (cgroupfs rooted
// at the container's cgroup), a pure v2 host with a cgroup namespace, and a joint cpu,cpuacct v1 host (EL7 style).
const hybridMountinfo = `
1000 900 0:25 /libpod_parent/libpod-abc /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory
1001 900 0:26 /libpod_parent/libpod-abc /sys/fs/cgroup/cpu rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu
1002 900 0:27 /libpod_parent/libpod-abc /sys/fs/cgroup/cpuacct rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpuacct
1003 900 0:28 /libpod_parent/libpod-abc /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids
1004 900 0:29 /libpod_parent/libpod-abc /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,xattr,name=systemd
1005 900 0:30 /libpod_parent/libpod-abc /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw
`;
const hybridCgroup = `9:name=systemd:/libpod_parent/libpod-abc
4:memory:/libpod_parent/libpod-abc
3:pids:/libpod_parent/libpod-abc
2:cpuacct:/libpod_parent/libpod-abc
1:cpu:/libpod_parent/libpod-abc
0::/libpod_parent/libpod-abc
`;

describe('mountinfo and /proc/self/cgroup parsing', () => {
  it('reads root, mount point, type and super options, with octal escapes', () => {
    const [mount] = parseMountInfo('36 35 98:0 /with\\040space /mnt/a\\040b rw,noatime master:1 - cgroup cgroup rw,cpu,cpuacct\n');
    expect(mount).toEqual({
      root: '/with space',
      mountPoint: '/mnt/a b',
      options: ['rw', 'noatime'],
      fsType: 'cgroup',
      source: 'cgroup',
      superOptions: ['rw', 'cpu', 'cpuacct'],
    });
  });

  it('reads v1 and v2 lines', () => {
    expect(parseProcCgroup('2:cpu,cpuacct:/a/b\n0::/c\n')).toEqual([
      { hierarchy: 2, controllers: ['cpu', 'cpuacct'], path: '/a/b' },
      { hierarchy: 0, controllers: [], path: '/c' },
    ]);
  });
});

describe('discoverFromText', () => {
  it('hybrid v1 (this machine): maps each controller through the mount root, not by concatenation', () => {
    const layout = discoverFromText(hybridMountinfo, hybridCgroup);
    expect(layout.mode).toBe('hybrid');
    expect(layout.controllers.get('memory')).toEqual({ version: 1, dir: '/sys/fs/cgroup/memory', mountPoint: '/sys/fs/cgroup/memory' });
    expect(layout.controllers.get('cpu')?.dir).toBe('/sys/fs/cgroup/cpu');
    expect(layout.controllers.has('name=systemd')).toBe(false);
    expect(layout.unified?.dir).toBe('/sys/fs/cgroup/unified');
  });

  it('v1 with a joint cpu,cpuacct hierarchy and the whole tree mounted (host view)', () => {
    const layout = discoverFromText(
      '30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n31 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n',
      '3:cpu,cpuacct:/wntest/wn1\n2:memory:/wntest/wn1\n',
    );
    expect(layout.mode).toBe('v1');
    expect(layout.controllers.get('cpu')?.dir).toBe('/sys/fs/cgroup/cpu,cpuacct/wntest/wn1');
    expect(layout.controllers.get('cpuacct')?.dir).toBe('/sys/fs/cgroup/cpu,cpuacct/wntest/wn1');
    expect(layout.controllers.get('memory')?.dir).toBe('/sys/fs/cgroup/memory/wntest/wn1');
  });

  it('v2 with a cgroup namespace (synthetic cgroup2 text): "0::/" and root "/" mean the mount point itself', () => {
    const layout = discoverFromText('40 30 0:35 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n', '0::/\n', () => [
      'cpu',
      'memory',
      'pids',
    ]);
    expect(layout.mode).toBe('v2');
    expect(layout.unified).toEqual({ version: 2, dir: '/sys/fs/cgroup', mountPoint: '/sys/fs/cgroup' });
    expect([...layout.controllers.keys()]).toEqual(['cpu', 'memory', 'pids']);
  });

  it('v2 without a cgroup namespace (synthetic cgroup2 text): the host path under a container-rooted mount', () => {
    const layout = discoverFromText(
      '40 30 0:35 /kubepods.slice/pod1/cri-x.scope /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n',
      '0::/kubepods.slice/pod1/cri-x.scope/agent\n',
    );
    expect(layout.unified?.dir).toBe('/sys/fs/cgroup/agent');
  });

  it('no cgroup filesystem at all', () => {
    expect(discoverFromText('22 1 0:21 / /proc rw - proc proc rw\n', '').mode).toBe('none');
  });

  it('a path outside the mounted root resolves to the mount point', () => {
    const [mount] = parseMountInfo('1 0 0:1 /a/b /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n');
    expect(mount && cgroupDir(mount, '/a/b/c')).toBe('/sys/fs/cgroup/memory/c');
    expect(mount && cgroupDir(mount, '/elsewhere')).toBe('/sys/fs/cgroup/memory');
  });
});
