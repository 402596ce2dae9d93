import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseSizeMiB } from '../../agent/config/units.ts';

describe('parseDuration', () => {
  it.each([
    ['20', 20_000],
    ['1.5', 1500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['2d', 172_800_000],
    [' 5s ', 5000],
  ])('%s → %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 's', '10x', '-5s', '5s garbage', '1h 30m', 'ten', '5 s'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('formats back to the largest whole unit', () => {
    expect([formatDuration(7_200_000), formatDuration(120_000), formatDuration(3000), formatDuration(1500)]).toEqual([
      '2h',
      '2m',
      '3s',
      '1500ms',
    ]);
  });
});

describe('parseSizeMiB', () => {
  it.each([
    ['4096', 4096],
    ['4G', 4096],
    ['4Gi', 4096],
    ['1.5GiB', 1536],
    ['512Mi', 512],
    ['2048k', 2],
    ['1T', 1_048_576],
  ])('%s → %d MiB', (text, mib) => expect(parseSizeMiB(text)).toBe(mib));

  it.each(['', 'G', '4X', '-1G', 'lots'])('rejects %j', (text) => expect(parseSizeMiB(text)).toBeUndefined());
});
