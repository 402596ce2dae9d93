import { chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobIdIn, readScratchFiles } from '../../agent/condor/scratch.ts';

// EXECUTE belongs to HTCondor's account (uid 4100 here), the scratch to the job's user (uid 4200). The starter writes
// .job.ad as either, or as root; a file of any other user is another job's, planted by a hard or bind trick.
const condorUid = 4100;
const jobUid = 4200;

async function scratchWithJobAd(owner: number, ad = 'ClusterId = 17\nProcId = 3\nOwner = "u"\n'): Promise<string> {
  const execute = await mkdtemp(join(tmpdir(), 'wn-scratch-'));
  const scratch = join(execute, 'dir_42');
  await mkdir(scratch);
  await writeFile(join(scratch, '.job.ad'), ad);
  await chown(execute, condorUid, condorUid);
  await chown(scratch, jobUid, jobUid);
  await chown(join(scratch, '.job.ad'), owner, owner);
  return scratch;
}

describe('jobIdIn', () => {
  it("reads the job ID from a .job.ad written as HTCondor's account, the job's user or root", async () => {
    for (const owner of [condorUid, jobUid, 0]) expect(await jobIdIn(await scratchWithJobAd(owner))).toBe('17.3');
  });

  it("refuses a .job.ad of another user, and a link in the job ad's place", async () => {
    expect(await jobIdIn(await scratchWithJobAd(4300))).toBeUndefined();
    const scratch = await scratchWithJobAd(jobUid);
    const other = await scratchWithJobAd(condorUid);
    await rm(join(scratch, '.job.ad'));
    await symlink(join(other, '.job.ad'), join(scratch, '.job.ad'));
    expect(await jobIdIn(scratch)).toBeUndefined();
  });

  it('takes only an ID HTCondor could have given: at most 10 digits of cluster, 6 of proc', async () => {
    const id = async (ad: string): Promise<string | undefined> => jobIdIn(await scratchWithJobAd(jobUid, ad));
    expect(await id('ClusterId = 4294967295\nProcId = 999999\n')).toBe('4294967295.999999');
    expect(await id(`ClusterId = ${'9'.repeat(11)}\nProcId = 0\n`)).toBeUndefined();
    expect(await id('ClusterId = 12\nProcId = 1234567\n')).toBeUndefined();
    expect(await id('ClusterId = 012\nProcId = 1\n')).toBeUndefined();
  });
});

describe('readScratchFiles', () => {
  it("reads each file after one check of the directory; a missing or foreign file is its own error, not the others'", async () => {
    const scratch = await scratchWithJobAd(jobUid);
    await writeFile(join(scratch, '.chirp.config'), '127.0.0.1 9 c\n');
    await writeFile(join(scratch, 'foreign'), 'x');
    await chown(join(scratch, 'foreign'), 4300, 4300);
    const [ad, chirp, missing, foreign] = await readScratchFiles(scratch, [
      { name: '.job.ad', maxBytes: 1024 },
      { name: '.chirp.config', maxBytes: 1024 },
      { name: 'missing', maxBytes: 1024 },
      { name: 'foreign', maxBytes: 1024 },
    ]);
    expect(ad).toContain('ClusterId = 17');
    expect(chirp).toBe('127.0.0.1 9 c\n');
    expect(missing).toBeInstanceOf(Error);
    expect(foreign).toBeInstanceOf(Error);
  });

  it('refuses the whole directory when it is a link', async () => {
    const scratch = await scratchWithJobAd(jobUid);
    const link = join(scratch, '..', 'dir_43');
    await symlink(scratch, link);
    await expect(readScratchFiles(link, [{ name: '.job.ad', maxBytes: 1024 }])).rejects.toThrow();
  });
});
