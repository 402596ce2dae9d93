import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { drain, type DrainCondor } from '../../agent/lifecycle/drain.ts';

// The drain's decisions against a scripted startd (busy slots per poll, what was asked of it); the real startd's
// drain is in test/lifecycle/lifecycle.int.test.ts.
function scripted(busy: number[], { vacateFails = false, busyThrows = false } = {}): DrainCondor & { calls: string[] } {
  const calls: string[] = [];
  let i = 0;
  return {
    calls,
    offPeaceful: async () => {
      calls.push('off');
    },
    busy: async () => {
      if (busyThrows) throw new Error('startd gone');
      const n = busy[Math.min(i++, busy.length - 1)] ?? 0;
      calls.push(`busy=${n}`);
      return n;
    },
    vacateFast: async () => {
      calls.push('vacate');
      if (vacateFails) throw new Error('condor_vacate: exit 1');
      busy.splice(0, busy.length, 0); // evicted: nothing runs any more
    },
  };
}

function logged(): { log: pino.Logger; events: Record<string, unknown>[] } {
  const events: Record<string, unknown>[] = [];
  return { log: pino({ level: 'info' }, { write: (line: string) => events.push(JSON.parse(line) as Record<string, unknown>) }), events };
}

describe('drain (scripted startd)', () => {
  it('stops new jobs first and completes when the running jobs end before the deadline, vacating none', async () => {
    const condor = scripted([2, 2, 1, 0]);
    const { log, events } = logged();
    const result = await drain({ condor, timeoutMs: 60_000, hurry: new AbortController().signal, log, pollMs: 5 });
    expect(result).toMatchObject({ completed: true, vacated: 0 });
    expect(condor.calls[0]).toBe('off');
    expect(condor.calls).not.toContain('vacate');
    expect(events.map((e) => e.event)).toEqual(['drain-started', 'drain-completed']);
  });

  it('vacates the jobs still running at the deadline back to the queue, and waits for the slots to empty', async () => {
    const condor = scripted([1]);
    const { log, events } = logged();
    const result = await drain({ condor, timeoutMs: 30, hurry: new AbortController().signal, log, pollMs: 5 });
    expect(result).toMatchObject({ completed: false, vacated: 1 });
    expect(result.waitedMs).toBeGreaterThanOrEqual(30);
    expect(condor.calls.filter((c) => c === 'vacate')).toHaveLength(1);
    expect(condor.calls.at(-1)).toBe('busy=0');
    expect(events.find((e) => e.event === 'drain-deadline')).toMatchObject({ running: 1, hurried: false });
  });

  it('goes to the deadline at once when hurried (a second stop signal)', async () => {
    const condor = scripted([3]);
    const hurry = new AbortController();
    hurry.abort();
    const { log, events } = logged();
    const result = await drain({ condor, timeoutMs: 3_600_000, hurry: hurry.signal, log, pollMs: 5 });
    expect(result).toMatchObject({ completed: false, vacated: 3 });
    // No wait for the hour: the first look at the slots, the count at the deadline, then the vacate (no polling).
    expect(condor.calls.slice(0, condor.calls.indexOf('vacate') + 1)).toEqual(['off', 'busy=3', 'busy=3', 'vacate']);
    expect(events.find((e) => e.event === 'drain-deadline')).toMatchObject({ hurried: true });
  });

  it('says so when condor_vacate fails, and still returns (HTCondor is then stopped directly)', async () => {
    const condor = scripted([1, 1, 0], { vacateFails: true });
    const { log, events } = logged();
    const result = await drain({ condor, timeoutMs: 0, hurry: new AbortController().signal, log, pollMs: 5 });
    expect(result.completed).toBe(false);
    expect(events.find((e) => e.event === 'vacate-failed')).toMatchObject({ error: 'condor_vacate: exit 1' });
  });

  it('counts a startd that no longer answers as having no job (a peaceful shutdown ended it)', async () => {
    const condor = scripted([], { busyThrows: true });
    const { log } = logged();
    expect(await drain({ condor, timeoutMs: 60_000, hurry: new AbortController().signal, log, pollMs: 5 })).toMatchObject({
      completed: true,
      vacated: 0,
    });
  });
});
