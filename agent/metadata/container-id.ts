/**
 * The container's full ID as the runtime knows it, found in /proc/self/cgroup (cgroup paths name the container
 * on v1 and on v2 without a cgroup namespace) or else in /proc/self/mountinfo (the runtime bind-mounts
 * /etc/hostname, /etc/hosts and /etc/resolv.conf from a directory named after the container, with or without
 * a cgroup namespace).
 */
const hex64 = '[0-9a-f]{64}';

// docker-<id>.scope, libpod-<id>.scope, crio-<id>.scope, cri-containerd-<id>.scope, /docker/<id>, /kubepods/.../<id>
const cgroupPatterns = [
  new RegExp(`(?:docker|libpod|crio|cri-containerd|containerd)[-/](${hex64})(?:\\.scope)?(?:/|$)`),
  new RegExp(`/(${hex64})(?:\\.scope)?(?:/|$)`),
];

// /var/lib/docker/containers/<id>/hostname, .../overlay-containers/<id>/userdata/hostname (podman),
// /var/lib/containerd/.../sandboxes/<id>/hostname is the pod's sandbox, not the container: not matched.
const mountPattern = new RegExp(`/(?:containers|overlay-containers)/(${hex64})/(?:userdata/)?(?:hostname|hosts|resolv\\.conf)$`);

export function containerIdFromCgroup(procCgroup: string): string | undefined {
  for (const line of procCgroup.split('\n')) {
    const path = line.split(':').slice(2).join(':');
    for (const pattern of cgroupPatterns) {
      const id = pattern.exec(path)?.[1];
      if (id) return id;
    }
  }
  return undefined;
}

export function containerIdFromMountInfo(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const root = line.split(' ')[3];
    const id = root ? mountPattern.exec(root)?.[1] : undefined;
    if (id) return id;
  }
  return undefined;
}

export function containerId(procCgroup: string, mountinfo: string): string | undefined {
  return containerIdFromCgroup(procCgroup) ?? containerIdFromMountInfo(mountinfo);
}
