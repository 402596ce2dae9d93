import { afterAll, describe, expect, it } from 'vitest';
import { image, run } from '../support/exec.ts';
import { testPool as pool, type Worker } from '../support/pool.ts';

// An unprivileged container (podman's default capabilities, read-only cgroupfs): real, no stand-ins.

describe('job isolation that the container cannot provide', () => {
  let worker: Worker | undefined;
  afterAll(async () => {
    await worker?.remove();
  });

  it('--job-isolation required (the default): exit 6 at start, saying what is missing', async () => {
    const result = await run('podman', [
      'run',
      '--rm',
      '--network',
      'none',
      '-e',
      'CONDOR_HOST=cm',
      '-v',
      pool.passwordMount,
      image,
      'run',
    ]);
    expect(result.code).toBe(6);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const failure = lines.find((line) => line.event === 'agent-error');
    expect(failure).toMatchObject({ code: 'WN_ERR_ISOLATION' });
    expect(String(failure?.msg)).toContain('read-only');
    expect(String(failure?.msg)).toContain('CAP_SYS_ADMIN');
    expect(lines.some((line) => line.event === 'master-started')).toBe(false);
  });

  it('--job-isolation best-effort: says what is missing, joins the pool and runs jobs without it', async () => {
    const name = `wn-${pool.name}-unpriv`;
    await run('podman', ['rm', '-f', name]);
    const started = await run('podman', [
      'run',
      '-d',
      '--name',
      name,
      '--hostname',
      name,
      '--network',
      pool.network,
      '--label',
      `wn-pool=${pool.name}`,
      '-e',
      `CONDOR_HOST=${pool.cm}`,
      '-v',
      pool.passwordMount,
      '-v',
      pool.testConfigMount,
      image,
      'run',
      '--job-isolation',
      'best-effort',
    ]);
    expect(started.code).toBe(0);
    const { Worker } = await import('../support/pool.ts');
    worker = new Worker(name);
    const degraded = await worker.waitForEvent('isolation-degraded');
    expect(degraded).toMatchObject({ level: 'warn', cgroups: false, namespaces: false });
    await worker.waitForEvent('startd-advertised');
    // podman fills /run/.containerenv (and so the task name) only for privileged containers: match on the ID.
    const cluster = await pool.submit(
      [
        'executable = /bin/true',
        'transfer_executable = False',
        'should_transfer_files = YES',
        'log = u.log',
        `requirements = ContainerId == "${await worker.id()}"`,
        'queue',
        '',
      ].join('\n'),
    );
    expect((await pool.waitForHistory(cluster, 1, ['JobStatus', 'ExitCode']))[0]).toEqual(['4', '0']);
  });
});
