/**
 * A worker's container name: the fleet, the first six characters of its spec's hash, and a time-and-random suffix.
 * It is also the worker's hostname and, under podman, its ContainerTaskId: the prototype machine ad uses a name made
 * the same way, so that no job can tell the prototype from a real worker by its name.
 */
export function workerName(fleet: string, hash: string, now = Date.now(), random = Math.random()): string {
  return `${fleet}-${hash.slice(0, 6)}-${now.toString(36)}${Math.floor(random * 1296).toString(36)}`;
}
