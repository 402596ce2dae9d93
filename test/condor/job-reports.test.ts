import { mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobReportWatcher, parseJobReport, writeJobAttributes, type JobReport } from '../../agent/condor/job-reports.ts';

describe('job reports from the job wrapper', () => {
  it('parses a success and a failure line', () => {
    expect(parseJobReport('job=12.3\tslot=slot1_1\tfailed=\terror=\n')).toEqual({ jobId: '12.3', slot: 'slot1_1', failed: [], error: '' });
    expect(parseJobReport('job=12.3\tslot=slot1_2\tfailed=ChirpContainerId ChirpMesosTaskId\terror=Chirp error: not enabled\n')).toEqual({
      jobId: '12.3',
      slot: 'slot1_2',
      failed: ['ChirpContainerId', 'ChirpMesosTaskId'],
      error: 'Chirp error: not enabled',
    });
    expect(parseJobReport('garbage')).toBeUndefined();
  });

  it('writes the attributes as Name<TAB>ClassAd literal, and a sticky write-only report directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wn-run-'));
    await writeJobAttributes(dir, { ChirpContainerTaskId: 't "1"', ChirpContainerScheduler: 'mesos' });
    expect(await readFile(join(dir, 'job-attrs'), 'utf8')).toBe('ChirpContainerTaskId\t"t \\"1\\""\nChirpContainerScheduler\t"mesos"\n');
    expect((await stat(join(dir, 'job-reports'))).mode & 0o7777).toBe(0o1733);
  });

  it('collects finished reports, skips ones still being written, and removes what it read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wn-reports-'));
    await writeFile(join(dir, '5.0.100'), 'job=5.0\tslot=slot1_1\tfailed=\terror=\n');
    await writeFile(join(dir, '5.1.101.tmp'), 'job=5.1');
    const seen: JobReport[] = [];
    const watcher = new JobReportWatcher(dir, (report) => seen.push(report), 60_000);
    await watcher.collect();
    expect(seen.map((report) => report.jobId)).toEqual(['5.0']);
    expect(await readdir(dir)).toEqual(['5.1.101.tmp']);
    await watcher.stop();
  });
});
