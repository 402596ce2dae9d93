/**
 * Dynamic slot sizes as the startd writes them into StartLog when it carves a slot for a claim (D_ALWAYS, 23.9):
 *   slot1_1: New dSlot of type 1 allocated
 *   slot1_1:   Cpus: 1.000000, Memory: 128, Swap: 0.00%, Disk: 0.00%
 * and forgets them at "slot1_1: Slot slot1_1 no longer needed, deleting". The claim (and these lines) come before
 * the claim's activation, so when the starter wrapper asks for placement, StartLog read to its end holds the size:
 * no condor_status process per job. A slot not seen here is asked of the startd as before.
 */
export class SlotSizes {
  private readonly sizes = new Map<string, { cpus: number; memoryMiB: number }>();
  private readonly announced = new Set<string>();

  /** One StartLog message (without its timestamp). */
  observe(message: string): void {
    const created = /^(slot\d+_\d+): New dSlot of type \d+ allocated/.exec(message)?.[1];
    if (created) {
      this.sizes.delete(created);
      this.announced.add(created);
      return;
    }
    const size = /^(slot\d+_\d+):\s+Cpus: ([\d.]+), Memory: (\d+)/.exec(message);
    if (size?.[1] && this.announced.has(size[1])) {
      this.announced.delete(size[1]);
      const cpus = Math.round(Number(size[2]));
      const memoryMiB = Number(size[3]);
      if (cpus > 0 && memoryMiB > 0) this.sizes.set(size[1], { cpus, memoryMiB });
      return;
    }
    const deleted = /^(slot\d+_\d+): Slot \1 no longer needed, deleting/.exec(message)?.[1];
    if (deleted) this.sizes.delete(deleted);
  }

  get(slot: string): { cpus: number; memoryMiB: number } | undefined {
    return this.sizes.get(slot);
  }
}
