import { networkInterfaces } from 'node:os';

/**
 * Whether a peer is inside the container's own network namespace: a loopback address (all of 127.0.0.0/8 and ::1)
 * or one of the container's own interface addresses. Jobs share that namespace, so every connection a job makes to
 * the admin port comes from one of these; a kubelet's probes and a Prometheus scrape come from outside.
 */
export function ownAddressMatcher(interfaces = networkInterfaces()): (address: string | undefined) => boolean {
  const own = new Set<string>();
  for (const list of Object.values(interfaces)) for (const entry of list ?? []) own.add(entry.address.toLowerCase());
  return (address) => {
    if (address === undefined) return true; // a socket already gone: count it with the ones that cannot be trusted
    const plain = address
      .toLowerCase()
      .replace(/^::ffff:/, '')
      .replace(/%.*$/, '');
    return plain.startsWith('127.') || plain === '::1' || own.has(plain);
  };
}
