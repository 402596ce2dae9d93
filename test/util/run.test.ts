import { describe, expect, it } from 'vitest';
import { runBounded } from '../../agent/util/run.ts';

describe('runBounded', () => {
  it('returns the output of a program that succeeds', async () => {
    expect(await runBounded('sh', ['-c', 'echo out; echo err >&2'], { timeoutMs: 5000 })).toEqual({
      ok: true,
      stdout: 'out\n',
      stderr: 'err\n',
      timedOut: false,
      why: '',
    });
  });

  it('says the exit code and the last lines of stderr when it fails', async () => {
    const result = await runBounded('sh', ['-c', 'echo one >&2; echo two >&2; exit 3'], { timeoutMs: 5000 });
    expect(result).toMatchObject({ ok: false, timedOut: false, why: 'exit 3: one | two' });
  });

  it('kills a program that outlives its deadline, and passes the environment given', async () => {
    const hung = await runBounded('sleep', ['30'], { timeoutMs: 100 });
    expect(hung).toMatchObject({ ok: false, timedOut: true, why: 'timed out after 100 ms' });
    expect((await runBounded('sh', ['-c', 'echo $WN_TEST_VALUE'], { timeoutMs: 5000, env: { WN_TEST_VALUE: 'x1' } })).stdout).toBe('x1\n');
  });
});
