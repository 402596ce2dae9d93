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
