import { describe, expect, it } from 'vitest';
import { healthAd, healthAttributes, maxReasonsLength } from '../../agent/health/attributes.ts';
import { isReservedAttribute } from '../../agent/metadata/attribute-names.ts';

describe('health machine ad fragment', () => {
  it('says healthy with no reasons', () => {
    expect(healthAd([])).toBe('WnHealthy = true\nWnUnhealthyReasons = ""\nWnDiskHoldSlot = ""\nWnDiskHoldReason = ""\n');
  });

  it('joins the reasons into one ClassAd string: quotes and line breaks escaped, one attribute per line', () => {
    const text = healthAd(['10-disk: exit 1: "/scratch" is full', 'weird\nname: exit 2\nWnHealthy = true']);
    expect(text).toBe(
      'WnHealthy = false\nWnUnhealthyReasons = "10-disk: exit 1: \\"/scratch\\" is full; weird\\nname: exit 2\\nWnHealthy = true"\n' +
        'WnDiskHoldSlot = ""\nWnDiskHoldReason = ""\n',
    );
    expect(text.split('\n')).toHaveLength(5); // four lines and the final newline: nothing a reason holds adds an attribute
  });

  it('cuts the reasons at 1,000 characters', () => {
    const text = healthAd(Array.from({ length: 40 }, (_, i) => `check-${i}: exit 1: ${'x'.repeat(100)}`));
    const value = /^WnUnhealthyReasons = "(.*)"$/m.exec(text)?.[1] ?? '';
    expect(Array.from(value)).toHaveLength(maxReasonsLength);
    expect(value.endsWith('…')).toBe(true);
  });

  it('names the slot whose job the startd holds for the execute disk, its reason escaped and cut like the reasons', () => {
    const text = healthAd(['execute-disk: 10 MiB free'], { slot: 'slot1_2@wn-1', reason: `"full" ${'y'.repeat(2000)}` });
    expect(text).toMatch(/^WnDiskHoldSlot = "slot1_2@wn-1"$/m);
    const reason = /^WnDiskHoldReason = "(.*)"$/m.exec(text)?.[1] ?? '';
    expect(reason.startsWith('\\"full\\" yyy')).toBe(true);
    expect(reason.endsWith('…')).toBe(true);
    expect(text.split('\n')).toHaveLength(5);
  });

  it('are names an operator cannot set with --attr', () => {
    for (const name of healthAttributes) expect(isReservedAttribute(name)).toBe(true);
  });
});
