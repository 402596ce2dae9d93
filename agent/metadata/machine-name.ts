import { createHash } from 'node:crypto';

/**
 * A machine name unique to this container and stable for its life. Host names repeat: containers on Mesos with host
 * networking share the node's name, and pods of two namespaces can share theirs. Two startds with one name would be one
 * machine in the collector (operators of similar containers asked for a unique NETWORK_HOSTNAME per container).
 * The suffix comes from the container ID, else the task ID, else the agent's per-state-dir ID; a host name that already
 * holds it (podman and docker name a container's host after its ID) is kept as it is.
 */
export function machineName(
  hostname: string,
  ids: { containerId?: string | undefined; taskId?: string | undefined; fallbackId: string },
): string {
  const suffix = ids.containerId
    ? ids.containerId.slice(0, 12)
    : createHash('sha256')
        .update(ids.taskId ?? ids.fallbackId)
        .digest('hex')
        .slice(0, 12);
  // DNS label rules (letters, digits and '-', at most 63 characters) for every label: the name goes into HTCondor's
  // configuration as NETWORK_HOSTNAME, where a space, '#', '$' or a line break would change its meaning.
  const clean = (label: string): string => label.replace(/[^a-z0-9-]/g, '-').slice(0, 63);
  const [first = 'wn', ...rest] = hostname.toLowerCase().split('.');
  const domain = rest.map(clean).filter((label) => label !== '' && label.replace(/-/g, '') !== '');
  const head = clean(first);
  if (head.includes(suffix) || (suffix.startsWith(head) && head.length >= 8)) return [head, ...domain].join('.');
  const label = `${head.slice(0, 63 - suffix.length - 1)}-${suffix}`;
  return [label, ...domain].join('.');
}
