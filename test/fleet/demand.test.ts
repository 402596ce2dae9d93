import { describe, expect, it } from 'vitest';
import { demandConstraint, groupJobs } from '../../agent/fleet/demand.ts';

describe('fleet demand', () => {
  it('asks only for idle jobs that fit one worker, and the site constraint', () => {
    expect(demandConstraint({ cpus: 8, memoryMiB: 16384 })).toBe('JobStatus == 1 && RequestCpus <= 8 && RequestMemory <= 16384');
    expect(demandConstraint({ cpus: 1, memoryMiB: 2048, constraint: 'Owner == "atlas"' })).toBe(
      'JobStatus == 1 && RequestCpus <= 1 && RequestMemory <= 2048 && (Owner == "atlas")',
    );
  });

  it('groups jobs by what decides their match, keeping one example per group, and skips lines it cannot read', () => {
    const row = (id: string, requirements: string, cpus = '1'): string => [`"${id}"`, requirements, cpus, '64', 'DiskUsage'].join('\t');
    const out = [
      row('cm.wn.test#1.0#17', '(WnFleet == "a") && (TARGET.Memory >= RequestMemory)'),
      row('cm.wn.test#1.1#17', '(WnFleet == "a") && (TARGET.Memory >= RequestMemory)'),
      row('cm.wn.test#2.0#18', '(TARGET.Cpus >= 2)', '2'),
      row('other.wn.test#7.3#19', '(WnFleet == "a") && (TARGET.Memory >= RequestMemory)'),
      'not a row',
      row('bad id; rm -rf /#1.0#1', 'true'),
      '',
    ].join('\n');
    const groups = groupJobs(out);
    expect(groups.map((g) => [g.count, g.example])).toEqual([
      [3, 'cm.wn.test#1.0#17'],
      [1, 'cm.wn.test#2.0#18'],
    ]);
  });
});
