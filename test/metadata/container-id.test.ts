import { describe, expect, it } from 'vitest';
import { containerId, containerIdFromCgroup, containerIdFromMountInfo } from '../../agent/metadata/container-id.ts';

const id = 'c9eb946616fc1cfeafe652a5d48016fa70753c0dc0927676787732cf043a7d7b';

describe('container ID from /proc/self/cgroup', () => {
  it.each([
    ['podman, v1 (this machine)', `4:memory:/libpod_parent/libpod-${id}\n0::/libpod_parent/libpod-${id}\n`],
    ['podman under systemd', `0::/machine.slice/libpod-${id}.scope/container\n`],
    ['docker, v1 cgroupfs driver', `12:memory:/docker/${id}\n`],
    ['docker, systemd driver', `0::/system.slice/docker-${id}.scope\n`],
    [
      'containerd (Kubernetes)',
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3c1e.slice/cri-containerd-${id}.scope\n`,
    ],
    ['CRI-O', `0::/kubepods.slice/kubepods-pod3c1e.slice/crio-${id}.scope\n`],
    ['kubepods, cgroupfs driver', `11:cpu,cpuacct:/kubepods/burstable/pod3c1e9a52/${id}\n`],
  ])('%s', (_, text) => expect(containerIdFromCgroup(text)).toBe(id));

  it('finds nothing behind a cgroup namespace or on a plain host', () => {
    expect(containerIdFromCgroup('0::/\n')).toBeUndefined();
    expect(containerIdFromCgroup('0::/user.slice/user-0.slice/session-1.scope\n')).toBeUndefined();
  });
});

describe('container ID from /proc/self/mountinfo (works with cgroup namespaces too)', () => {
  it('podman', () => {
    const line = `136 128 254:0 /run/containers/storage/overlay-containers/${id}/userdata/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw\n`;
    expect(containerIdFromMountInfo(line)).toBe(id);
  });

  it('docker', () => {
    const line = `590 571 254:1 /var/lib/docker/containers/${id}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw\n`;
    expect(containerIdFromMountInfo(line)).toBe(id);
  });

  it('is used when the cgroup file says nothing', () => {
    expect(containerId('0::/\n', `1 0 8:1 /var/lib/docker/containers/${id}/resolv.conf /etc/resolv.conf rw - ext4 /dev/sda rw\n`)).toBe(id);
  });
});
