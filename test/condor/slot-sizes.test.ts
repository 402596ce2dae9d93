import { describe, expect, it } from 'vitest';
import { SlotSizes } from '../../agent/condor/slot-sizes.ts';

// Lines as HTCondor 23.9.6's startd wrote them in this project's pool (timestamps stripped, as the forwarder does).
describe('SlotSizes', () => {
  it("learns a dynamic slot's size when the startd carves it, and forgets it when the slot is deleted", () => {
    const sizes = new SlotSizes();
    sizes.observe('slot1: \tCpus: 2.000000, Memory: 23849, Swap: 100.00%, Disk: 100.00%, GPUs: 0'); // the p-slot
    sizes.observe('slot1_1: New dSlot of type 1 allocated');
    expect(sizes.get('slot1_1')).toBeUndefined(); // carved, size not yet read: not a stale or half answer
    sizes.observe('slot1_1: \tCpus: 1.000000, Memory: 128, Swap: 0.00%, Disk: 0.00%');
    expect(sizes.get('slot1_1')).toEqual({ cpus: 1, memoryMiB: 128 });
    expect(sizes.get('slot1')).toBeUndefined();
    sizes.observe('slot1_1: Slot slot1_1 no longer needed, deleting');
    expect(sizes.get('slot1_1')).toBeUndefined();
  });

  it('replaces the size of a reused slot name at once, and ignores size lines without an allocation', () => {
    const sizes = new SlotSizes();
    sizes.observe('slot1_1: New dSlot of type 1 allocated');
    sizes.observe('slot1_1: \tCpus: 1.000000, Memory: 128, Swap: 0.00%, Disk: 0.00%');
    sizes.observe('slot1_1: New dSlot of type 1 allocated'); // a new claim under the old name
    expect(sizes.get('slot1_1')).toBeUndefined();
    sizes.observe('slot1_1: \tCpus: 2.000000, Memory: 2048, Swap: 0.00%, Disk: 0.00%');
    expect(sizes.get('slot1_1')).toEqual({ cpus: 2, memoryMiB: 2048 });
    sizes.observe('slot1_2: \tCpus: 8.000000, Memory: 99999, Swap: 0.00%, Disk: 0.00%');
    expect(sizes.get('slot1_2')).toBeUndefined();
  });
});
