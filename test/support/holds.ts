import { expect } from 'vitest';

/**
 * A job held the way HTCondor 23's own starter holds a job over its cgroup memory (VanillaProc::outOfMemoryEvent):
 * JobOutOfResources (34), subcode 0, the slot's limit and the peak in the text (two spaces before "Consider"), and
 * MemoryUsage near that peak. `row` is condor_q's HoldReasonCode, HoldReasonSubCode, HoldReason, MemoryUsage.
 */
export function expectOomHold(row: string[] | undefined, limitMiB: number): void {
  const [code, subcode, reason = '', memoryUsage] = row ?? [];
  expect([code, subcode]).toEqual(['34', '0']);
  const text = new RegExp(
    `Job has gone over cgroup memory limit of ${limitMiB} megabytes\\. Peak usage: (\\d+) megabytes\\. {2}Consider resubmitting with a higher request_memory\\.`,
  ).exec(reason);
  expect(text, reason).not.toBeNull();
  expect(Number(text?.[1])).toBeGreaterThanOrEqual(0.9 * limitMiB);
  expect(Number(memoryUsage)).toBeGreaterThanOrEqual(0.9 * limitMiB);
  expect(Number(memoryUsage)).toBeLessThanOrEqual(limitMiB + 64);
}
