import { describe, expect, it } from 'vitest';
import { streamLines } from '../../agent/util/stream-lines.ts';

describe('streamLines', () => {
  it('hands lines on, drops the over-long ones and counts them', async () => {
    const lines: string[] = [];
    const result = await streamLines('sh', ['-c', 'echo a; head -c 5000 /dev/zero | tr "\\0" x; echo; printf b'], {
      timeoutMs: 5000,
      maxLineBytes: 100,
      onLine: (line) => lines.push(line),
    });
    expect(result).toMatchObject({ ok: true, overlong: 1 });
    expect(lines.filter(Boolean)).toEqual(['a', 'b']);
  });

  it('ends at the deadline even when a process it forked keeps the output open', async () => {
    const result = await streamLines('sh', ['-c', '(sleep 30; echo late) & echo early; sleep 30'], {
      timeoutMs: 500,
      maxLineBytes: 100,
      onLine: () => undefined,
    });
    expect(result).toMatchObject({ ok: false, timedOut: true, why: 'timed out after 500 ms' });
  });

  it('a consumer that throws ends the run with its reason instead of escaping a stream event', async () => {
    const result = await streamLines('sh', ['-c', 'echo one; echo two; sleep 30'], {
      timeoutMs: 10_000,
      maxLineBytes: 100,
      onLine: (line) => {
        if (line === 'two') throw new RangeError('Map maximum size exceeded');
      },
    });
    expect(result).toMatchObject({ ok: false, why: 'reading its output: Map maximum size exceeded' });
  });
});
