import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Closers } from '../../agent/lifecycle/closers.ts';

describe('Closers', () => {
  it('stops the last started first, each once, and goes on past a part that fails to stop', async () => {
    const events: Record<string, unknown>[] = [];
    const closers = new Closers(pino({}, { write: (line: string) => events.push(JSON.parse(line) as Record<string, unknown>) }));
    const stopped: string[] = [];
    closers.add('cvmfs', () => void stopped.push('cvmfs'));
    closers.add('isolation', async () => {
      stopped.push('isolation');
      throw new Error('EBUSY');
    });
    closers.add('admin', async () => void stopped.push('admin'));
    expect(closers.pending).toEqual(['admin', 'isolation', 'cvmfs']);
    await closers.closeAll();
    await closers.closeAll();
    expect(stopped).toEqual(['admin', 'isolation', 'cvmfs']);
    expect(closers.pending).toEqual([]);
    expect(events).toEqual([expect.objectContaining({ event: 'stop-failed', part: 'isolation', error: 'EBUSY' })]);
  });
});
