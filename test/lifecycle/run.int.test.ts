import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../agent/util/wait.ts';
import { image, run } from '../support/exec.ts';
import { testPool, type Worker } from '../support/pool.ts';

const pool = testPool;

/** Slots of one worker as the central manager's collector has them. */
async function slotsOf(worker: Worker): Promise<string[][]> {
  // Under podman alone the task is the container's name (ContainerTaskId, from /run/.containerenv).
  return pool.status(`ContainerTaskId == "${worker.name}"`, ['Name', 'State', 'Cpus', 'Memory']);
}

function waitForSlot(worker: Worker, timeoutMs = 60_000): Promise<string[][]> {
  return waitFor(async () => ((await slotsOf(worker)).length > 0 ? slotsOf(worker) : undefined), {
    timeoutMs,
    intervalMs: 500,
    what: `slot of ${worker.name} in condor_status`,
  });
}

const jobScript = `#!/bin/sh
# Reads a transferred input file, writes an output file that must come back.
echo "job $1 on $(hostname) as $(id -un)"
tr a-z A-Z < input.txt > result.txt
`;

function submitDescription(count: number): string {
  return [
    'executable = job.sh',
    'arguments = $(Process)',
    'transfer_input_files = input.txt',
    'transfer_output_remaps = "result.txt = result.$(Cluster).$(Process).txt"',
    'should_transfer_files = YES',
    'when_to_transfer_output = ON_EXIT',
    'output = out.$(Cluster).$(Process)',
    'error = err.$(Cluster).$(Process)',
    'log = jobs.log',
    'request_cpus = 1',
    'request_memory = 64',
    `queue ${count}`,
    '',
  ].join('\n');
}

describe('a worker container joins a separately configured pool and runs jobs', () => {
  let worker: Worker;

  beforeAll(async () => {
    // Only CONDOR_HOST and the pool password: what an operator gives a worker.
    worker = await pool.startWorker();
  });
  afterAll(async () => {
    await worker.remove();
  });

  it('appears in condor_status of the central manager as a partitionable slot', async () => {
    const slots = await waitForSlot(worker);
    // The host name plus the short container ID: host names repeat across containers, machines must not.
    const machine = `${worker.name}-${(await worker.id()).slice(0, 12)}`;
    expect(slots.map((slot) => slot[0])).toEqual([`slot1@${machine}`]);
    const partitionable = await pool.status(`Name == "slot1@${machine}"`, ['PartitionableSlot']);
    expect(partitionable).toEqual([['true']]);
  });

  it('runs jobs submitted by a non-root user with file transfer, and they complete in condor_history on that worker', async () => {
    await waitForSlot(worker);
    const cluster = await pool.submit(submitDescription(2), {
      'job.sh': { text: jobScript, mode: '0755' },
      'input.txt': { text: 'grid jobs\n' },
    });
    const done = await pool.waitForHistory(cluster, 2, ['ProcId', 'Owner', 'JobStatus', 'ExitCode', 'LastRemoteHost']);
    for (const [proc, owner, status, exitCode, host] of done) {
      expect({ proc, owner, status, exitCode }).toEqual({ proc, owner: 'submitter', status: '4', exitCode: '0' });
      expect(host).toMatch(new RegExp(`^slot1_\\d+@${worker.name}-[0-9a-f]{12}$`));
    }
    const result = await pool.exec(['cat', `result.${cluster}.0.txt`, `result.${cluster}.1.txt`], { user: 'submitter' });
    expect(result).toBe('GRID JOBS\nGRID JOBS\n');
    const out = await pool.exec(['cat', `out.${cluster}.0`], { user: 'submitter' });
    expect(out).toMatch(new RegExp(`^job 0 on ${worker.name} as `));
  });

  it("writes its own and HTCondor's daemon log lines to stdout as JSON with the daemon's name", async () => {
    const lines = await worker.jsonLogs(); // throws if any stdout line is not JSON
    expect(lines.find((line) => line.event === 'startd-advertised')).toBeDefined();
    const daemons = new Set(lines.filter((line) => line.source === 'condor').map((line) => line.daemon));
    expect(daemons).toContain('master');
    expect(daemons).toContain('startd');
    expect(daemons).toContain('starter');
    // A claim's story at info (its routine state-machine steps are at debug): the activation names the job.
    expect(lines.some((line) => line.daemon === 'startd' && /^slot1_\d+: Remote job ID is \d+\.\d+$/.test(String(line.msg)))).toBe(true);
  });

  it('never logs the pool password', async () => {
    const password = await run('cat', [`${pool.secretDir}/POOL`]);
    const { stdout, stderr } = await worker.logs();
    expect(password.stdout.length).toBeGreaterThan(0);
    expect(stdout + stderr).not.toContain(password.stdout.trim().slice(0, 16));
  });

  it('on SIGTERM stops HTCondor cleanly, leaves the collector and exits 0 with a JSON summary as its last line', async () => {
    await waitForSlot(worker);
    await worker.stop(60);
    expect(await worker.waitExit()).toBe(0);
    const lines = await worker.jsonLogs();
    const last = lines.at(-1);
    expect(last).toMatchObject({ event: 'summary', reason: 'signal', signal: 'SIGTERM', exitCode: 0 });
    expect(last?.master).toMatchObject({ code: 0, expected: true, stoppedBy: 'graceful' });
    // A graceful shutdown invalidates the startd's ads: the slot is gone, not left to expire.
    await waitFor(async () => ((await slotsOf(worker)).length === 0 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: `slot of ${worker.name} removed from the collector`,
    });
  });
});

describe('a worker authenticated with an IDTOKEN only', () => {
  let worker: Worker;
  afterAll(async () => {
    await worker?.remove();
    await run('rm', ['-rf', `${pool.secretDir}/tokens`]);
  });

  it('joins the pool and runs a job', async () => {
    const token = await pool.exec(['condor_token_create', '-identity', 'condor@wn.test']);
    await run('mkdir', ['-p', `${pool.secretDir}/tokens`]);
    await run('sh', ['-c', `umask 077 && cat > ${pool.secretDir}/tokens/pool-token`], { input: token });
    worker = await pool.startWorker({ mounts: [`${pool.secretDir}/tokens:/etc/condor/tokens-orig.d:ro`] });
    await waitForSlot(worker);
    const cluster = await pool.submit(submitDescription(1), {
      'job.sh': { text: jobScript, mode: '0755' },
      'input.txt': { text: 'token\n' },
    });
    const [job] = await pool.waitForHistory(cluster, 1, ['JobStatus', 'LastRemoteHost']);
    expect(job?.[0]).toBe('4');
    expect(job?.[1]).toMatch(new RegExp(`@${worker.name}-[0-9a-f]{12}$`));
    const installed = (await worker.jsonLogs()).find((line) => line.event === 'credentials-installed');
    expect(installed).toMatchObject({ poolPassword: false, tokens: ['pool-token'] });
  });
});

describe('bad configuration stops the agent before anything starts', () => {
  async function runAgentContainer(
    env: Record<string, string>,
    args: string[] = [],
    mounts: string[] = [],
    podmanArgs: string[] = [],
  ): Promise<{ code: number; stderr: string; stdout: string }> {
    return run('podman', [
      'run',
      '--rm',
      '--network',
      'none',
      ...podmanArgs,
      ...Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]),
      ...mounts.flatMap((mount) => ['-v', mount]),
      image,
      'run',
      ...args,
    ]);
  }
  const password = `${pool.secretDir}/POOL:/etc/condor/passwords-orig.d/POOL:ro`;

  it('without CONDOR_HOST: exit 2, naming the variable', async () => {
    const result = await runAgentContainer({}, [], [password]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('CONDOR_HOST');
    expect(result.stdout).not.toContain('master-started');
  });

  it('as a user other than root: exit 2, saying that jobs would run as that user and read the credentials', async () => {
    const result = await runAgentContainer({ CONDOR_HOST: 'cm' }, [], [password], ['--user', '1000:1000']);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('must run as root (uid 0), not uid 1000');
    expect(result.stdout).not.toContain('master-started');
  });

  it('with WN_CPUS=many: exit 2, naming --cpus and WN_CPUS and echoing the value', async () => {
    const result = await runAgentContainer({ CONDOR_HOST: 'cm', WN_CPUS: 'many' }, [], [password]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--cpus (WN_CPUS)');
    expect(result.stderr).toContain('"many"');
  });

  it('without any pool credential: exit 2, naming where it looked', async () => {
    const result = await runAgentContainer({ CONDOR_HOST: 'cm' });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('WN_ERR_CREDENTIALS');
    expect(result.stdout).toContain('/etc/condor/passwords-orig.d/POOL');
    expect(result.stdout).not.toContain('master-started');
  });

  it('with an unreachable central manager: exit 3 after --startup-timeout, with what HTCondor said', async () => {
    const result = await runAgentContainer(
      { CONDOR_HOST: 'no-such-cm.invalid' },
      ['--startup-timeout', '6s'],
      [password],
      ['--privileged'],
    );
    expect(result.code).toBe(3);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const failure = lines.find((line) => line.event === 'agent-error');
    expect(failure).toMatchObject({ code: 'WN_ERR_NOT_ADVERTISED' });
    expect(String(failure?.msg)).toContain('--startup-timeout');
    expect(Array.isArray(failure?.recentCondorLog)).toBe(true);
    expect(lines.at(-1)).toMatchObject({ event: 'summary', exitCode: 3 });
  });
});
