import { describe, expect, it } from 'vitest';
import { countCpuList } from '../../agent/util/cpu-list.ts';

describe('countCpuList', () => {
  it.each([
    ['0-3', 4],
    ['0-3,8,10-11', 7],
    ['5', 1],
    ['', undefined],
  ])('%j → %s', (list, count) => expect(countCpuList(list)).toBe(count));
});
