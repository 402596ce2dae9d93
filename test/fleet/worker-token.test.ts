import { describe, expect, it } from 'vitest';
import { workerToken } from '../../agent/fleet/worker-token.ts';
import { check } from '../support/exec.ts';

const key = 'the-fleet-key-of-some-length';

describe("workerToken: each worker's own admin token, from the fleet's key and the worker's name", () => {
  it('is the same for the same key and name (a restarted controller derives it again), and 64 hex digits', () => {
    expect(workerToken(key, 'wn-abcdef-1')).toBe(workerToken(key, 'wn-abcdef-1'));
    expect(workerToken(key, 'wn-abcdef-1')).toMatch(/^[0-9a-f]{64}$/);
  });

  it("differs between two workers, and between two fleets' keys: one worker's token opens no other", () => {
    expect(workerToken(key, 'wn-abcdef-1')).not.toBe(workerToken(key, 'wn-abcdef-2'));
    expect(workerToken(key, 'wn-abcdef-1')).not.toBe(workerToken(`${key}x`, 'wn-abcdef-1'));
    expect(workerToken(key, 'wn-abcdef-1')).not.toContain(key);
  });

  it('is HMAC-SHA256 as openssl computes it, so an operator can derive a worker token by hand', async () => {
    const out = await check('openssl', ['dgst', '-sha256', '-hmac', key], { input: 'wn-abcdef-1' });
    expect(out.trim().split('= ')[1]).toBe(workerToken(key, 'wn-abcdef-1'));
  });
});
