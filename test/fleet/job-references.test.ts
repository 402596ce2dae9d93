import { describe, expect, it } from 'vitest';
import { jobReferences } from '../../agent/fleet/job-references.ts';

const machine = new Set(['Memory', 'Cpus', 'Arch', 'OpSys', 'WnFleet']);

describe('the job attributes a Requirements expression reads', () => {
  it("reads none in condor_submit's usual Requirements (the machine's, the requests, literals, functions)", () => {
    const usual =
      '(TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX") && (TARGET.Disk >= RequestDisk) && (TARGET.Memory >= RequestMemory) && ' +
      '(TARGET.HasFileTransfer) && WnFleet == "atlas" && regexp("^a", TARGET.Machine) && Memory > 1.5e3 && x.y isnt undefined';
    expect(jobReferences(usual, machine)).toEqual(['x']);
  });

  it('reads MY.<name> and bare names the machine does not have, never words inside strings', () => {
    expect(jobReferences('MY.Wanted == "yes" && Site == "MY.Hidden" && my . Other && TARGET.Site == Site', machine)).toEqual([
      'Wanted',
      'Site',
      'Other',
    ]);
  });
});
