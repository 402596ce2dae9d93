import type { DockerApi } from './docker.ts';

/** How a fleet's workers are given what the agent needs (--worker-privileges). */
export type WorkerPrivileges = 'auto' | 'capabilities' | 'privileged';
export const workerPrivilegeModes: readonly WorkerPrivileges[] = ['auto', 'capabilities', 'privileged'];

/**
 * What a worker needs, short of `Privileged`, measured under runc on a cgroup v1 host (podman 4.3 and Docker 20.10):
 * CAP_SYS_ADMIN (FUSE mounts of CVMFS, HTCondor's PID and mount namespaces per job, the bind of cpuacct at
 * cpu,cpuacct), CAP_NET_ADMIN (the iptables chain that keeps jobs off the admin port), /dev/fuse, and the cgroup
 * filesystem writable (non-privileged containers get it read-only; the agent nests every job's cgroup under its own).
 * With these a job ran as its slot account in its nested cgroup, was held over its memory (34/0) and was reachable
 * with condor_ssh_to_job; without CAP_SYS_PTRACE, CAP_AUDIT_WRITE or seccomp=unconfined, all the same. AppArmor's
 * default container profile refuses mount whatever the capabilities, hence apparmor=unconfined. Docker's
 * `--privileged` asks for every capability it knows and fails on hosts whose bounding set lacks one.
 */
export function capabilityHostConfig(): Record<string, unknown> {
  return {
    CapAdd: ['SYS_ADMIN', 'NET_ADMIN'],
    SecurityOpt: ['apparmor=unconfined'],
    Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }],
  };
}

/** The cgroup filesystem, bound writable: cgroup v1 only, where the container's cgroups are found through mountinfo. */
export const cgroupBind = '/sys/fs/cgroup:/sys/fs/cgroup:rw';

/**
 * `auto`: capabilities where the engine runs cgroup v1 (tried there), privileged on cgroup v2 or when the engine does
 * not say. On v2 a non-privileged container has a cgroup namespace of its own with /sys/fs/cgroup read-only, and a
 * bind of the host's tree would not be rooted at the container's cgroup; that set-up is not tried, so v2 stays
 * privileged.
 */
export async function resolvePrivileges(mode: WorkerPrivileges, api: DockerApi): Promise<'capabilities' | 'privileged'> {
  if (mode !== 'auto') return mode;
  const info = await api.call<{ CgroupVersion?: unknown }>('GET', '/info').catch(() => undefined);
  return String(info?.CgroupVersion ?? '') === '1' ? 'capabilities' : 'privileged';
}
