import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../agent/util/wait.ts';
import { check, run, testImage } from '../support/exec.ts';
import { testPool as pool, type Worker } from '../support/pool.ts';

// STAND-IN for CVMFS: the test image's mount.cvmfs mounts /srv/cvmfs-standin/<repo>.sqfs with squashfuse. The FUSE
// mounts, their failure and the HTCondor side are real; the repositories' content and the CVMFS client are not.

let standin: string;
const workers: Worker[] = [];

async function squashfs(repo: string, files: Record<string, string>): Promise<void> {
  const src = await mkdtemp(join(standin, `src-${repo}-`));
  for (const [name, text] of Object.entries(files)) await writeFile(join(src, name), text);
  await check('mksquashfs', [src, join(standin, 'srv', `${repo}.sqfs`), '-noappend', '-quiet', '-no-progress']);
}

function startWorker(repos: string, extra: string[] = []): Promise<Worker> {
  return pool
    .startWorker({
      image: testImage,
      mounts: [pool.passwordMount, pool.testConfigMount, `${standin}/srv:/srv/cvmfs-standin:ro`],
      // The startd sees a health change at once (its START uses it); the collector hears of it at the next ad update.
      agentArgs: ['--cvmfs-repositories', repos, '--cvmfs-probe-interval', '5s', '--update-interval', '2', ...extra],
    })
    .then((worker) => {
      workers.push(worker);
      return worker;
    });
}

async function health(worker: Worker): Promise<string[] | undefined> {
  return (
    await pool.status(`ContainerTaskId == "${worker.name}"`, ['HAS_CVMFS_atlas_cern_ch', 'HAS_CVMFS_cms_cern_ch', 'CVMFS_HEALTHY'])
  )[0];
}

beforeAll(async () => {
  standin = await mkdtemp('/var/tmp/wn-cvmfs-standin-');
  await check('mkdir', ['-p', join(standin, 'srv')]);
  await squashfs('atlas.cern.ch', { README: 'atlas software\n' });
  await squashfs('cms.cern.ch', { README: 'cms software\n' });
});
afterAll(async () => {
  for (const worker of workers) await worker.remove();
  await rm(standin, { recursive: true, force: true });
});

describe('CVMFS repositories mounted inside the worker (stand-in repositories)', () => {
  let worker: Worker;

  it('advertises both repositories healthy, and a job that requires one reads a file from it', async () => {
    worker = await startWorker('atlas.cern.ch,cms.cern.ch');
    const ad = await waitFor(
      async () => {
        const row = await health(worker);
        return row?.[0] === 'true' && row[1] === 'true' ? row : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'HAS_CVMFS_* true' },
    );
    expect(ad).toEqual(['true', 'true', 'atlas.cern.ch,cms.cern.ch']);
    const cluster = await pool.submit(
      [
        'executable = /bin/cat',
        'transfer_executable = False',
        'arguments = /cvmfs/atlas.cern.ch/README',
        'output = cvmfs.$(Cluster).out',
        '+RequiresCVMFS = "atlas.cern.ch"',
        `requirements = ContainerTaskId == "${worker.name}"`,
        'should_transfer_files = YES',
        'log = cvmfs.log',
        'queue',
        '',
      ].join('\n'),
    );
    expect((await pool.waitForHistory(cluster, 1, ['JobStatus', 'ExitCode']))[0]).toEqual(['4', '0']);
    expect(await pool.exec(['cat', `cvmfs.${cluster}.out`], { user: 'submitter' })).toBe('atlas software\n');
  });

  it('a killed FUSE process flips the attribute to false; the agent remounts and it returns to true', async () => {
    await worker.exec(['pkill', '-9', '-f', 'cms.cern.ch.sqfs']);
    await waitFor(async () => ((await health(worker))?.[1] === 'false' ? true : undefined), {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: 'HAS_CVMFS_cms_cern_ch false',
    });
    expect((await health(worker))?.[2]).toBe('atlas.cern.ch'); // the START clause now keeps cms jobs away
    await waitFor(async () => ((await health(worker))?.[1] === 'true' ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'HAS_CVMFS_cms_cern_ch true again',
    });
    const lines = await worker.jsonLogs();
    expect(lines.some((line) => line.event === 'cvmfs-unhealthy' && line.repo === 'cms.cern.ch')).toBe(true);
    expect(lines.some((line) => line.event === 'cvmfs-remounted' && line.repo === 'cms.cern.ch')).toBe(true);
    expect(await worker.exec(['cat', '/cvmfs/cms.cern.ch/README'])).toBe('cms software\n');
  });

  it('a job that requires a broken or absent repository is not started there', async () => {
    const cluster = await pool.submit(
      [
        'executable = /bin/true',
        'transfer_executable = False',
        '+RequiresCVMFS = "lhcb.cern.ch"',
        `requirements = ContainerTaskId == "${worker.name}"`,
        'should_transfer_files = YES',
        'log = cvmfs.log',
        'queue',
        '',
      ].join('\n'),
    );
    // An observed fact, not a wait: the negotiator considered the job and rejected it, and it is still idle.
    await waitFor(
      async () => {
        const log = await pool.exec(['grep', '-c', `Rejected ${cluster}.0 `, '/var/lib/condor-pool/log/NegotiatorLog']).catch(() => '0');
        return Number(log.trim()) >= 2 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: `two rejections of ${cluster}.0 in the NegotiatorLog` },
    );
    expect((await pool.exec(['condor_q', `${cluster}`, '-af', 'JobStatus'])).trim()).toBe('1');
    await pool.exec(['condor_rm', `${cluster}`]);
  });

  it('unmounts every repository on SIGTERM', async () => {
    await worker.stop(60);
    expect(await worker.waitExit()).toBe(0);
    const unmounted = (await worker.jsonLogs()).filter((line) => line.event === 'cvmfs-unmounted').map((line) => line.repo);
    expect(unmounted.sort()).toEqual(['atlas.cern.ch', 'cms.cern.ch']);
  });
});

describe('a missing required repository', () => {
  it('stops the agent at start with exit 4, naming it, after unmounting what it had mounted', async () => {
    const result = await run('podman', [
      'run',
      '--rm',
      '--privileged',
      '--network',
      'none',
      '-e',
      'CONDOR_HOST=cm',
      '-v',
      pool.passwordMount,
      '-v',
      `${standin}/srv:/srv/cvmfs-standin:ro`,
      testImage,
      'run',
      '--cvmfs-repositories',
      'atlas.cern.ch,missing.cern.ch',
    ]);
    expect(result.code).toBe(4);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const error = lines.find((line) => line.event === 'agent-error');
    expect(error).toMatchObject({ code: 'WN_ERR_CVMFS', repositories: ['missing.cern.ch'] });
    expect(String(error?.msg)).toContain('missing.cern.ch');
    const events = lines.map((line) => `${String(line.event)}:${String(line.repo)}`);
    // The one that mounted is unmounted again, and before the error is reported: nothing is left mounted.
    const mounted = events.indexOf('cvmfs-mounted:atlas.cern.ch');
    const unmounted = events.indexOf('cvmfs-unmounted:atlas.cern.ch');
    const failed = events.findIndex((e) => e.startsWith('agent-error'));
    expect(mounted).toBeGreaterThanOrEqual(0);
    expect(unmounted).toBeGreaterThan(mounted);
    expect(failed).toBeGreaterThan(unmounted);
    expect(lines.some((line) => line.event === 'master-started')).toBe(false);
  });

  it('--cvmfs-mode bind without a mount from the host: exit 4, saying nothing is mounted there', async () => {
    const result = await run('podman', [
      'run',
      '--rm',
      '--privileged',
      '--network',
      'none',
      '-e',
      'CONDOR_HOST=cm',
      '-v',
      pool.passwordMount,
      testImage,
      'run',
      '--cvmfs-repositories',
      'atlas.cern.ch',
      '--cvmfs-mode',
      'bind',
    ]);
    expect(result.code).toBe(4);
    expect(result.stdout).toContain('nothing is mounted at /cvmfs/atlas.cern.ch');
  });
});
