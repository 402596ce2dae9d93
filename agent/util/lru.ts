/**
 * A Map of at most `max` entries that forgets the least recently used one when full. For caches whose keys others
 * create (one per group of jobs any pool user can submit): bounded, and a flood of new keys pushes out old ones one
 * at a time instead of clearing what everyone else's entries had earned.
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) return undefined;
    this.map.delete(key); // re-inserted: the Map's order is the use order
    this.map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
}
