import { describe, expect, it } from 'vitest';
import { EventHub } from '../../agent/events/hub.ts';
import { matches, toEvent } from '../../agent/events/model.ts';

describe('toEvent', () => {
  it('names agent events by their event field, forwarded HTCondor lines condor-log, others agent-log', () => {
    const base = { time: '2026-11-24T05:00:00.000Z', agent: 'wn-agent', taskId: 't-1' };
    expect(toEvent({ ...base, level: 'info', event: 'job-started', jobId: '4.0', msg: 'job 4.0 started' }, 7)).toEqual({
      seq: 7,
      time: base.time,
      type: 'job-started',
      severity: 'info',
      msg: 'job 4.0 started',
      jobId: '4.0',
      taskId: 't-1',
    });
    expect(toEvent({ ...base, level: 'warn', source: 'condor', daemon: 'startd', msg: 'x' }, 8)).toMatchObject({
      type: 'condor-log',
      severity: 'warn',
      daemon: 'startd',
    });
    expect(toEvent({ ...base, level: 'info', msg: 'y' }, 9).type).toBe('agent-log');
  });

  it('filters by type, minimum severity and daemon', () => {
    const event = toEvent({ level: 'warn', source: 'condor', daemon: 'startd', msg: 'm' }, 1);
    expect(matches(event, { types: new Set(['condor-log']) })).toBe(true);
    expect(matches(event, { types: new Set(['job-started']) })).toBe(false);
    expect(matches(event, { minSeverity: 'info' })).toBe(true);
    expect(matches(event, { minSeverity: 'error' })).toBe(false);
    expect(matches(event, { daemons: new Set(['starter']) })).toBe(false);
  });
});

describe('EventHub', () => {
  it('numbers events from 1 and hands them to subscribers', () => {
    const hub = new EventHub(10);
    const seen: number[] = [];
    const off = hub.subscribe((event) => seen.push(event.seq));
    hub.publish({ msg: 'a' });
    hub.publish({ msg: 'b' });
    off();
    hub.publish({ msg: 'c' });
    expect(seen).toEqual([1, 2]);
    expect(hub.lastSeq).toBe(3);
  });

  it('replays what is still buffered after a sequence number, and says how many are gone', () => {
    const hub = new EventHub(5);
    for (let i = 0; i < 12; i++) hub.publish({ msg: String(i) });
    expect(hub.oldestSeq).toBe(8);
    expect(hub.since(9)).toEqual({
      events: [expect.objectContaining({ seq: 10 }), expect.objectContaining({ seq: 11 }), expect.objectContaining({ seq: 12 })],
      missed: 0,
    });
    const old = hub.since(3);
    expect(old.missed).toBe(4); // 4..7 are gone
    expect(old.events.map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(hub.since(12).events).toEqual([]);
  });
});

describe('EventHub size bound', () => {
  it('keeps the backlog under maxChars of JSON, dropping the oldest, and replays what is left with the gap counted', () => {
    const hub = new EventHub(1000, 20_000);
    for (let i = 0; i < 100; i++) hub.publish({ level: 'info', event: 'job-started', msg: 'x'.repeat(1000) });
    expect(hub.backlogChars).toBeLessThanOrEqual(20_000);
    expect(hub.backlogChars).toBeGreaterThan(15_000);
    const kept = hub.lastSeq - hub.oldestSeq + 1;
    expect(kept).toBeLessThan(20);
    const { events, missed } = hub.since(0);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: kept }, (_, i) => hub.oldestSeq + i));
    expect(missed).toBe(hub.oldestSeq - 1);
    // Small events: the count bound, not the size, decides where they fit.
    const small = new EventHub(100, 20_000);
    for (let i = 0; i < 2000; i++) small.publish({ level: 'info', event: 'idle', msg: 'y' });
    expect(small.lastSeq - small.oldestSeq + 1).toBe(100);
    expect(small.since(0).events).toHaveLength(100);
  });
});
