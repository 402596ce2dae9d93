import { describe, expect, it } from 'vitest';
import type { SlotAd } from '../../agent/condor/collector.ts';
import { AdvertisedWatch, advertisedLimits } from '../../agent/lifecycle/advertised.ts';
import { WaitTimeout } from '../../agent/util/wait.ts';

const ad: SlotAd = { name: 'slot1@wn', state: 'Unclaimed', activity: 'Idle' };

describe('AdvertisedWatch', () => {
  it('does not ask the collector before the startd logged its initial update (within the hint time)', async () => {
    let asked = 0;
    const watch = new AdvertisedWatch(async () => (asked++, [ad]), 300);
    await expect(watch.wait()).rejects.toBeInstanceOf(WaitTimeout);
    expect(asked).toBe(0);
  });

  it('asks once the line was read, and answers with the ads', async () => {
    let asked = 0;
    const watch = new AdvertisedWatch(async () => (++asked < 3 ? [] : [ad]), 5000);
    const waiting = watch.wait();
    watch.initialUpdate();
    await expect(waiting).resolves.toEqual([ad]);
    expect(asked).toBe(3);
  });

  it('asks anyway once the hint time has passed without the line (another HTCondor version)', async () => {
    let clock = 1_000_000;
    const watch = new AdvertisedWatch(
      async () => [ad],
      5000,
      () => clock,
    );
    const waiting = watch.wait();
    clock += advertisedLimits.initialUpdateHintMs + 1;
    await expect(waiting).resolves.toEqual([ad]);
  });

  it('a line from before this wait (an earlier start of the startd) is no hint', async () => {
    let asked = 0;
    let clock = 1_000_000;
    const watch = new AdvertisedWatch(
      async () => (asked++, [ad]),
      300,
      () => clock,
    );
    watch.initialUpdate();
    clock += 1;
    await expect(watch.wait()).rejects.toBeInstanceOf(WaitTimeout);
    expect(asked).toBe(0);
  });

  it('ends when the worker stops', async () => {
    const stop = new AbortController();
    const watch = new AdvertisedWatch(async () => [], 60_000);
    const waiting = watch.wait(stop.signal);
    watch.initialUpdate();
    stop.abort();
    await expect(waiting).rejects.toThrow();
  });
});
