import { afterEach, describe, expect, it } from 'vitest';
import { PollLoop } from '../../agent/util/poll-loop.ts';
import { waitFor } from '../../agent/util/wait.ts';

let loop: PollLoop | undefined;
afterEach(async () => {
  await loop?.stop();
});

describe('PollLoop', () => {
  it('runs a tick soon after trigger(), and one burst of triggers during a tick costs one more tick, not many', async () => {
    let ticks = 0;
    let release: (() => void) | undefined;
    loop = new PollLoop(
      async () => {
        ticks += 1;
        if (ticks === 1) await new Promise<void>((resolve) => (release = resolve));
      },
      60_000,
      5,
    );
    loop.start();
    loop.trigger();
    await waitFor(async () => (release ? true : undefined), { timeoutMs: 2000, intervalMs: 5, what: 'first tick' });
    for (let i = 0; i < 10; i++) loop.trigger(); // all while the first tick runs
    release?.();
    await waitFor(async () => (ticks === 2 ? true : undefined), { timeoutMs: 2000, intervalMs: 5, what: 'second tick' });
    await new Promise((resolve) => setTimeout(resolve, 100)); // a window in which a pile of ticks would show
    expect(ticks).toBe(2);
  });

  it('keeps ticking while triggers keep coming: a trigger does not postpone a tick already due', async () => {
    let ticks = 0;
    loop = new PollLoop(
      async () => {
        ticks += 1;
      },
      60_000,
      30,
    );
    loop.start();
    const until = Date.now() + 400;
    while (Date.now() < until) {
      loop.trigger(); // a busy log: an event every millisecond or so, never a 30 ms pause
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(ticks).toBeGreaterThanOrEqual(2);
  });

  it('never ticks after stop()', async () => {
    let ticks = 0;
    loop = new PollLoop(
      async () => {
        ticks += 1;
      },
      10,
      1,
    );
    loop.start();
    await waitFor(async () => (ticks >= 2 ? true : undefined), { timeoutMs: 2000, intervalMs: 5, what: 'ticks' });
    await loop.stop();
    const after = ticks;
    loop.trigger();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ticks).toBe(after);
  });
});
