import { describe, expect, it } from 'vitest';
import { baseColumns, GroupingPass } from '../../agent/fleet/job-groups.ts';
import { jobReferences } from '../../agent/fleet/job-references.ts';

const machine = new Set(['Memory', 'WnFleet']);
const references = (text: string): string[] => jobReferences(text, machine);
const row = (id: string, owner: string, requirements: string, ...extra: string[]): string =>
  [`"${id}"`, `"${owner}"`, requirements, '1', '64', 'DiskUsage', '"wn.test"', 'undefined', ...extra].join('\t');

describe('grouping idle jobs by what decides their match', () => {
  it('groups by owner, Requirements and requests, keeps one example per group, and skips lines it cannot read', () => {
    const pass = new GroupingPass(baseColumns, references, 100);
    for (const line of [
      row('cm.wn.test#1.0#17', 'alice', '(WnFleet == "a") && (TARGET.Memory >= RequestMemory)'),
      row('cm.wn.test#1.1#17', 'alice', '(WnFleet == "a") && (TARGET.Memory >= RequestMemory)'),
      row('other.wn.test#7.3#19', 'bob', '(WnFleet == "a") && (TARGET.Memory >= RequestMemory)'),
      'not a row',
      row('bad id; rm -rf /#1.0#1', 'alice', 'true'),
      row('cm#1.0#1', 'alice"; x', 'true'),
      row(`cm#${'9'.repeat(11)}.0#1`, 'alice', 'true'),
      '',
    ])
      pass.add(line);
    expect([...pass.groups.values()].map((g) => [g.owner, g.count, g.example])).toEqual([
      ['alice', 2, 'cm.wn.test#1.0#17'],
      ['bob', 1, 'other.wn.test#7.3#19'],
    ]);
    expect(pass.unreadable).toBe(4);
  });

  it("holds at most maxGroups groups, and at most a tenth of them one owner's: one user cannot crowd the others out", () => {
    const pass = new GroupingPass(baseColumns, references, 100);
    for (let i = 0; i < 50; i++) pass.add(row(`cm#${i}.0#1`, 'mallory', `TARGET.Memory > ${i}`));
    pass.add(row('cm#99.0#1', 'alice', 'WnFleet == "a"'));
    expect(pass.groups.size).toBe(11);
    expect(pass.overflow).toBe(40);
    expect([...pass.groups.values()].some((g) => g.owner === 'alice')).toBe(true);
  });

  it('thousands of made-up attribute names from one user: a text reading over 64 is not followed, the rest is bounded', () => {
    const pass = new GroupingPass(baseColumns, references, 100);
    for (let j = 0; j < 300; j++) {
      pass.add(row(`cm#${j}.0#1`, 'mallory', Array.from({ length: 70 }, (_, k) => `MY.a${j}_${k}`).join(' || ')));
      pass.add(row(`cm#${j}.1#1`, 'mallory', Array.from({ length: 10 }, (_, k) => `MY.b${j}_${k}`).join(' || ')));
    }
    expect(pass.unreadable).toBe(300);
    expect(pass.unkeyed).toBe(300);
    expect(pass.wanted.size).toBeLessThanOrEqual(1024);
  });

  it('asks the next pass for the job attributes Requirements read, most-read first, at most the limit, valid names only', () => {
    const pass = new GroupingPass(baseColumns, references, 100);
    pass.add(row('cm#1.0#1', 'a', 'MY.A && MY.B'));
    pass.add(row('cm#1.1#1', 'a', 'MY.B'));
    pass.add(row('cm#1.2#1', 'a', `MY.${'L'.repeat(120)}`));
    expect(pass.unkeyed).toBe(3);
    expect(pass.groups.size).toBe(0);
    expect(pass.nextExtraColumns(1)).toEqual(['B']);
    expect(pass.nextExtraColumns(5)).toEqual(['B', 'A']);
    // Ranked by owners first: one owner's many jobs reading X do not outrank Y read by two owners.
    const ranked = new GroupingPass(baseColumns, references, 100);
    for (let i = 0; i < 20; i++) ranked.add(row(`cm#2.${i}#1`, 'mallory', 'MY.X'));
    ranked.add(row('cm#3.0#1', 'alice', 'MY.Y'));
    ranked.add(row('cm#4.0#1', 'bob', 'MY.Y'));
    expect(ranked.nextExtraColumns(1)).toEqual(['Y']);
    // With B a column, jobs reading B are keyed by its value; an attribute B reads is followed in turn.
    const next = new GroupingPass([...baseColumns, 'B'], references, 100);
    next.add(row('cm#1.1#1', 'a', 'MY.B', '"x"'));
    next.add(row('cm#1.3#1', 'a', 'MY.B', '"y"'));
    next.add(row('cm#1.4#1', 'a', 'MY.B', 'MY.C + 1'));
    expect(next.groups.size).toBe(2);
    expect(next.unkeyed).toBe(1);
    expect(next.nextExtraColumns(5)).toEqual(['B', 'C']);
  });

  it("keys condor_submit's own Requirements (MY.FileSystemDomain) from the first pass, by the value", () => {
    const pass = new GroupingPass(baseColumns, references, 100);
    const usual = '(TARGET.Memory >= RequestMemory) && ((TARGET.FileSystemDomain == MY.FileSystemDomain) || (TARGET.HasFileTransfer))';
    pass.add(row('cm#1.0#1', 'a', usual));
    pass.add(row('cm#1.1#1', 'a', usual));
    pass.add([`"cm#2.0#1"`, '"a"', usual, '1', '64', 'DiskUsage', '"other.domain"', 'undefined'].join('\t'));
    expect(pass.unkeyed).toBe(0);
    expect([...pass.groups.values()].map((g) => g.count)).toEqual([2, 1]);
  });
});
