import { readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverFromText } from '../../agent/cgroup/discover.ts';
import { starterHeadroomBytes } from '../../agent/isolation/job-cgroups.ts';
import { waitFor } from '../../agent/util/wait.ts';
import { podman } from '../support/exec.ts';
import { testPool as pool, type Worker } from '../support/pool.ts';

// Everything here is real: cgroup v1 on this host, HTCondor's PID and mount namespaces under runc, inspected from the
// host's /proc and cgroupfs while jobs run.

let worker: Worker;
let machine: string;

/** The worker container's own cgroup on the host, per controller (through the host's mountinfo). */
async function containerCgroup(controller: 'memory' | 'cpu' | 'pids'): Promise<string> {
  const pid = (await podman(['inspect', '-f', '{{.State.Pid}}', worker.name])).trim();
  const layout = discoverFromText(await readFile('/proc/self/mountinfo', 'utf8'), await readFile(`/proc/${pid}/cgroup`, 'utf8'));
  const dir = layout.controllers.get(controller)?.dir;
  if (!dir) throw new Error(`no ${controller} cgroup for ${worker.name}`);
  return dir.replace(/\/agent$/, ''); // tini, PID 1, now lives in the agent's leaf
}

const procs = async (dir: string): Promise<number[]> =>
  (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);

const submitLines = (lines: string[]): string => [...lines, 'should_transfer_files = YES', 'log = iso.log', 'queue', ''].join('\n');

async function jobEvent(event: string, jobId: string, timeoutMs = 120_000): Promise<Record<string, unknown>> {
  return worker.waitForEvent(event, (line) => line.jobId === jobId, timeoutMs);
}

beforeAll(async () => {
  worker = await pool.startWorker({
    mounts: [pool.passwordMount, pool.testConfigMount],
    podmanArgs: ['--memory', '2g'],
    agentArgs: ['--job-pids-max', '200'],
  });
  await worker.waitForEvent('startd-advertised');
  machine = `${worker.name}-${(await worker.id()).slice(0, 12)}`;
});
afterAll(async () => {
  await worker.remove();
});

describe('each job in its own nested cgroups and namespaces', () => {
  it('while it runs, seen from the host: nested cgroups with the slot memory as limit, own PID and mount namespaces, private /tmp', async () => {
    const script = '#!/bin/sh\necho "pid=$$"\necho "tmp=$(ls -A /tmp | wc -l)"\ntouch /tmp/job-was-here\nsleep 20\n';
    const cluster = await pool.submit(
      submitLines(['executable = iso.sh', 'output = iso.$(Cluster).out', 'request_memory = 100', `requirements = Machine == "${machine}"`]),
      {
        'iso.sh': { text: script, mode: '0755' },
      },
    );
    const started = await jobEvent('job-started', `${cluster}.0`);
    const cgroup = String(started.cgroup);
    expect(cgroup).toMatch(/^jobs\/slot1_\d+$/);

    const memRoot = await containerCgroup('memory');
    const cpuRoot = await containerCgroup('cpu');
    const jobMem = join(memRoot, cgroup);
    // The starter in the slot's cgroup; the job in HTCondor's own cgroup nested in it (HTCondor holds it to its memory).
    const [starterPid] = await procs(jobMem);
    const nested = (await readdir(jobMem, { withFileTypes: true })).filter((e) => e.isDirectory() && e.name.startsWith('condor_'));
    expect(nested.map((e) => e.name)).toEqual([expect.stringMatching(new RegExp(`^condor_.*_${cgroup.slice(5)}@`))]);
    const condorMem = join(jobMem, nested[0]?.name ?? '');
    const jobPids = await procs(condorMem);
    expect(starterPid).toBeGreaterThan(0);
    expect(jobPids.length).toBeGreaterThan(0);
    for (const pid of jobPids) {
      const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).split('\n');
      const mem = lines.find((line) => /:memory:/.test(line));
      const cpu = lines.find((line) => /:cpu(,|:)/.test(line));
      // Nested under the container's cgroup and the slot's, not the container's own.
      expect(mem).toMatch(new RegExp(`/libpod-[0-9a-f]{64}/${cgroup}/condor_[^/]+$`));
      expect(cpu).toMatch(new RegExp(`/libpod-[0-9a-f]{64}/${cgroup}$`)); // CPU weight: the slot's (the agent's)
    }
    expect((await procs(join(cpuRoot, cgroup))).sort()).toEqual([starterPid, ...jobPids].sort());

    // The limit is the dynamic slot's Memory (request_memory 100 is rounded up by the schedd to 128).
    const [slotMemory] = await waitFor(
      async () => {
        const rows = await pool.status(`Name == "${cgroup.slice(5)}@${machine}"`, ['Memory']);
        return rows[0];
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'dynamic slot in the collector' },
    );
    // HTCondor's cgroup holds the job to the slot's Memory; the slot's own adds the starter's headroom.
    expect(Number(await readFile(join(condorMem, 'memory.limit_in_bytes'), 'utf8'))).toBe(Number(slotMemory) * 1048576);
    expect(Number(await readFile(join(jobMem, 'memory.limit_in_bytes'), 'utf8'))).toBe(Number(slotMemory) * 1048576 + starterHeadroomBytes);
    expect(started.limits).toMatchObject({ memoryBytes: Number(slotMemory) * 1048576, pidsMax: 200 });

    // Namespaces: the agent's (= tini's, the container's) against the job's.
    const agentPid = (await podman(['inspect', '-f', '{{.State.Pid}}', worker.name])).trim();
    const ns = (pid: string | number, kind: string): Promise<string> => readlink(`/proc/${pid}/ns/${kind}`);
    const jobProcesses = [];
    for (const pid of jobPids) if ((await ns(pid, 'pid')) !== (await ns(agentPid, 'pid'))) jobProcesses.push(pid);
    expect(jobProcesses.length).toBeGreaterThan(0);
    for (const pid of jobProcesses) expect(await ns(pid, 'mnt')).not.toBe(await ns(agentPid, 'mnt'));

    const [done] = await pool.waitForHistory(cluster, 1, ['JobStatus', 'ExitCode']);
    expect(done).toEqual(['4', '0']);
    const out = await pool.exec(['cat', `iso.${cluster}.out`], { user: 'submitter' });
    expect(Number(/pid=(\d+)/.exec(out)?.[1])).toBeLessThan(50); // pid 1 is condor_pid_ns_init
    expect(out).toContain('tmp=0');
    expect(await worker.exec(['ls', '-A', '/tmp'])).not.toContain('job-was-here');
    const finished = await jobEvent('job-finished', `${cluster}.0`);
    expect(finished).toMatchObject({ cgroup, oomKilled: false, isolationVerified: true });
  });

  it('a job allocating four times its request is stopped by its own cgroup and held; a job beside it completes', async () => {
    const hog = await pool.submit(
      submitLines([
        'executable = /usr/bin/node',
        'transfer_executable = False',
        // 64 MiB requested (the schedd makes it 128); 512 MiB touched, 16 MiB at a time.
        `arguments = "-e 'const a=[]; for (let i = 0; i < 32; i++) a.push(Buffer.alloc(1 << 24, 1)); console.log(''survived'')'"`,
        'output = hog.$(Cluster).out',
        'error = hog.$(Cluster).err',
        'request_memory = 64',
        `requirements = Machine == "${machine}"`,
      ]),
    );
    const neighbour = await pool.submit(
      submitLines([
        'executable = /bin/sh',
        'transfer_executable = False',
        'arguments = "-c \'sleep 8; echo neighbour ok\'"',
        'output = nb.$(Cluster).out',
        'request_memory = 64',
        `requirements = Machine == "${machine}"`,
      ]),
    );
    const finished = await jobEvent('job-finished', `${hog}.0`);
    expect(finished).toMatchObject({ oomKilled: true });
    const [held] = await pool.waitForQueue(hog, 'JobStatus == 5', ['HoldReasonCode', 'HoldReasonSubCode']);
    expect(held).toEqual(['34', '0']); // HTCondor's own hold for a job over its cgroup memory limit
    await pool.exec(['condor_rm', String(hog)]);
    // A held job's output is not transferred; whatever came back must not say it survived.
    expect(await pool.exec(['sh', '-c', `cat hog.${hog}.out 2>/dev/null || true`], { user: 'submitter' })).not.toContain('survived');
    const [nbDone] = await pool.waitForHistory(neighbour, 1, ['JobStatus', 'ExitCode']);
    expect(nbDone).toEqual(['4', '0']);
    expect(await pool.exec(['cat', `nb.${neighbour}.out`], { user: 'submitter' })).toBe('neighbour ok\n');
  });

  it('a fork bomb is stopped by the pids limit and the worker keeps serving', async () => {
    const bomb = '#!/bin/sh\ni=0\nwhile [ $i -lt 5000 ]; do sleep 300 & i=$((i+1)); done\necho "forked $i"\n';
    const cluster = await pool.submit(
      submitLines([
        'executable = bomb.sh',
        'output = bomb.$(Cluster).out',
        'error = bomb.$(Cluster).err',
        'request_memory = 64',
        `requirements = Machine == "${machine}"`,
      ]),
      {
        'bomb.sh': { text: bomb, mode: '0755' },
      },
    );
    const [done] = await pool.waitForHistory(cluster, 1, ['JobStatus', 'ExitCode']);
    expect(done?.[0]).toBe('4');
    expect(await pool.exec(['cat', `bomb.${cluster}.out`], { user: 'submitter' })).not.toContain('forked 5000');
    expect(await pool.exec(['cat', `bomb.${cluster}.err`], { user: 'submitter' })).toMatch(/fork/i);
    await jobEvent('job-finished', `${cluster}.0`);
    // Still serving: the next job runs.
    const next = await pool.submit(
      submitLines([
        'executable = /bin/true',
        'transfer_executable = False',
        'request_memory = 64',
        `requirements = Machine == "${machine}"`,
      ]),
    );
    expect((await pool.waitForHistory(next, 1, ['JobStatus', 'ExitCode']))[0]).toEqual(['4', '0']);
  });

  it('two concurrent jobs get two cgroups with their own limits, and none is left when they end', async () => {
    const sleepJob = (memory: number): string =>
      submitLines([
        'executable = /bin/sleep',
        'transfer_executable = False',
        'arguments = 12',
        `request_memory = ${memory}`,
        `requirements = Machine == "${machine}"`,
      ]);
    const a = await pool.submit(sleepJob(100));
    const b = await pool.submit(sleepJob(300));
    const [startA, startB] = await Promise.all([jobEvent('job-started', `${a}.0`), jobEvent('job-started', `${b}.0`)]);
    expect(startA?.cgroup).not.toBe(startB?.cgroup);
    const memRoot = await containerCgroup('memory');
    const limitOf = async (cgroup: unknown): Promise<number> =>
      Number(await readFile(join(memRoot, String(cgroup), 'memory.limit_in_bytes'), 'utf8'));
    expect(await limitOf(startA?.cgroup)).toBe(128 * 1048576 + starterHeadroomBytes);
    expect(await limitOf(startB?.cgroup)).toBe(384 * 1048576 + starterHeadroomBytes); // request_memory rounded up to 128 MiB steps by the schedd
    // Both sizes came from StartLog before the starters started, not from a question to the startd afterwards.
    const placed = (await worker.jsonLogs()).filter((l) => l.event === 'job-placed').slice(-2); // these two jobs
    expect(placed.map((l) => [l.limitsFrom, (l.limits as { memoryBytes: number }).memoryBytes]).sort()).toEqual([
      ['startd-log', 128 * 1048576],
      ['startd-log', 384 * 1048576],
    ]);
    await Promise.all([jobEvent('job-finished', `${a}.0`), jobEvent('job-finished', `${b}.0`)]);
    for (const controller of ['memory', 'cpu', 'pids'] as const) {
      const left = (await readdir(join(await containerCgroup(controller), 'jobs'), { withFileTypes: true })).filter((entry) =>
        entry.isDirectory(),
      );
      expect(left.map((entry) => entry.name)).toEqual([]);
    }
  });
});
