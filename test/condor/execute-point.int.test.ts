import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../agent/util/wait.ts';
import { run } from '../support/exec.ts';
import { expectOomHold } from '../support/holds.ts';
import { testPool as pool, type Worker } from '../support/pool.ts';

// What a pool user and a site admin see of an agent worker through HTCondor's own tools, against what a native
// execute point promises: memory holds and requeues, one account per slot, condor_ssh_to_job, nothing left behind.
// Real jobs of two real pool users on real workers; every fact is read from condor_q, condor_history, the job's
// own output or the worker's process table.

const siteDir = `/var/tmp/wn-ep-${randomBytes(3).toString('hex')}`;
const execute = '/var/lib/wn-agent/condor/execute';
let worker: Worker; // an ordinary worker
let small: Worker; // advertises more memory than its container has: the node itself runs out
let loose: Worker; // a site that turned HTCondor's PID namespaces off
const machineOf = async (w: Worker): Promise<string> => `${w.name}-${(await w.id()).slice(0, 12)}`;
const machines = new Map<Worker, string>();

const submitFile = (w: Worker, lines: string[]): string =>
  [...lines, 'should_transfer_files = YES', 'log = ep.log', `requirements = Machine == "${machines.get(w)}"`, 'queue', ''].join('\n');

// Touches `chunks` × 16 MiB and never frees it. A script, so that the submit-side ImageSize estimate is tiny.
const hog = (chunks: number): { text: string; mode: string } => ({
  text: `#!/bin/sh\nexec node -e 'const a = []; for (let i = 0; i < ${chunks}; i++) a.push(Buffer.alloc(1 << 24, 1)); console.log("survived")'\n`,
  mode: '0755',
});

beforeAll(async () => {
  await mkdir(siteDir, { recursive: true });
  await writeFile(`${siteDir}/60-no-pid-namespaces.conf`, 'USE_PID_NAMESPACES = False\n');
  [worker, small, loose] = await Promise.all([
    pool.startWorker({ mounts: [pool.passwordMount, pool.testConfigMount], agentArgs: ['--cpus', '4', '--memory', '2048'] }),
    pool.startWorker({
      mounts: [pool.passwordMount, pool.testConfigMount],
      podmanArgs: ['--memory', '500m'],
      agentArgs: ['--cpus', '1', '--memory', '1200'],
    }),
    pool.startWorker({
      mounts: [
        pool.passwordMount,
        pool.testConfigMount,
        `${siteDir}/60-no-pid-namespaces.conf:/etc/wn-agent/condor.d/60-no-pid-ns.conf:ro`,
      ],
      agentArgs: ['--cpus', '1'],
    }),
  ]);
  for (const w of [worker, small, loose]) {
    await w.waitForEvent('startd-advertised');
    machines.set(w, await machineOf(w));
  }
  await pool.ensureUser('submitter2');
});
afterAll(async () => {
  await Promise.all([worker, small, loose].map((w) => w?.remove()));
  await rm(siteDir, { recursive: true, force: true });
});

describe('memory, as HTCondor reports it', () => {
  it("a job over its memory is held with HTCondor's own code and text; MemoryUsage is its cgroup's peak", async () => {
    const cluster = await pool.submit(
      submitFile(worker, ['executable = hog.sh', 'output = hog.$(Cluster).out', 'error = hog.$(Cluster).err', 'request_memory = 200']),
      { 'hog.sh': hog(50) },
    );
    const [held] = await pool.waitForQueue(cluster, 'JobStatus == 5', ['HoldReasonCode', 'HoldReasonSubCode', 'HoldReason', 'MemoryUsage']);
    // The limit is the dynamic slot's: request_memory 200, rounded up by the schedd to 256 MiB.
    expectOomHold(held, 256);
    expect(await worker.waitForEvent('job-finished', (l) => l.jobId === `${cluster}.0`)).toMatchObject({ oomKilled: true });
    await pool.exec(['condor_rm', String(cluster)]);
  });

  it('a node that runs out of memory as a whole requeues the job instead of holding it, and keeps serving', async () => {
    // 1024 MiB slot in a 500 MiB container: the job (720 MiB) is under its own limit when the container's runs out.
    const cluster = await pool.submit(submitFile(small, ['executable = hog.sh', 'output = node-oom.out', 'request_memory = 1000']), {
      'hog.sh': hog(45),
    });
    const [requeued] = await pool.waitForQueue(cluster, 'NumJobStarts >= 2', ['NumHolds', 'HoldReasonCode']);
    expect(requeued).toEqual(['undefined', 'undefined']); // never held
    const userLog = await pool.exec(['cat', 'ep.log'], { user: 'submitter' });
    expect(userLog).toMatch(new RegExp(`\\(0*${cluster}\\.000\\.000\\)[^\\n]*\\n\\s*Worker node is out of memory`));
    await pool.exec(['condor_rm', String(cluster)]);
    expect(await pool.status(`Machine == "${machines.get(small)}"`, ['State'])).not.toEqual([]);
  });
});

describe('one account per slot', () => {
  it("two pool users' jobs side by side: neither can list, read, write or plant into the other's scratch; both are traced", async () => {
    // side.sh TARGET LINGER: probes TARGET (another job's scratch, or "-"), then keeps a 0600 secret of its own in its
    // scratch for LINGER seconds, then lists its scratch (anything planted in it would show).
    const side = [
      '#!/bin/sh',
      't=$1',
      'echo "user=$(id -un)"',
      'if [ "$t" != - ]; then',
      '  ls "$t" >/dev/null 2>&1 && echo "list: ok" || echo "list: denied"',
      '  cat "$t/mine" >/dev/null 2>&1 && echo "read: ok" || echo "read: denied"',
      '  cat "$t/.chirp.config" >/dev/null 2>&1 && echo "chirp: ok" || echo "chirp: denied"',
      '  cat "$t/.job.ad" >/dev/null 2>&1 && echo "job-ad: ok" || echo "job-ad: denied"',
      '  touch "$t/planted" 2>/dev/null && echo "write: ok" || echo "write: denied"',
      '  mkfifo "$t/.wn-agent-reply" 2>/dev/null && echo "fifo: ok" || echo "fifo: denied"',
      '  ls "$(dirname "$t")" >/dev/null 2>&1 && echo "execute-list: ok" || echo "execute-list: denied"',
      '  cat /var/lib/wn-agent/condor/log/StartLog >/dev/null 2>&1 && echo "daemon-log: ok" || echo "daemon-log: denied"',
      'fi',
      'echo secret > mine && chmod 600 mine',
      'sleep "$2"',
      'echo "own: $(ls -A | tr "\\n" " ")"',
      '',
    ].join('\n');
    const files = { 'side.sh': { text: side, mode: '0755' } };
    const job = (target: string, linger: number): string =>
      submitFile(worker, [
        'executable = side.sh',
        `arguments = ${target} ${linger}`,
        'output = side.$(Cluster).out',
        'request_memory = 64',
      ]);
    const scratchOf = async (cluster: number): Promise<string> => {
      const recorded = await worker.waitForEvent('job-attributes-recorded', (l) => l.jobId === `${cluster}.0`, 120_000);
      return `${execute}/dir_${String(recorded.starterPid)}`;
    };
    // submitter's job; submitter2's job probes it; another of submitter's jobs probes submitter2's.
    const first = await pool.submit(job('-', 60), files);
    const second = await pool.submit(job(await scratchOf(first), 40), files, { user: 'submitter2' });
    const third = await pool.submit(job(await scratchOf(second), 0), files);
    const id = await worker.id();
    const outputs: string[] = [];
    for (const [cluster, user] of [
      [first, 'submitter'],
      [second, 'submitter2'],
      [third, 'submitter'],
    ] as const) {
      expect(await pool.waitForHistory(cluster, 1, ['ExitCode', 'ChirpContainerId'])).toEqual([['0', id]]);
      outputs.push(await pool.exec(['cat', `side.${cluster}.out`], { user }));
    }
    const [firstOut = '', secondOut = '', thirdOut = ''] = outputs;
    for (const probe of [secondOut, thirdOut])
      for (const what of ['list', 'read', 'chirp', 'job-ad', 'write', 'fifo', 'execute-list', 'daemon-log'])
        expect(probe, probe).toContain(`${what}: denied`);
    const userOf = (out: string): string | undefined => /^user=(\S+)$/m.exec(out)?.[1];
    for (const out of outputs) expect(userOf(out)).toMatch(/^wnslot\d+$/);
    expect(userOf(secondOut)).not.toBe(userOf(firstOut));
    expect(userOf(thirdOut)).not.toBe(userOf(secondOut));
    for (const out of [firstOut, secondOut]) {
      expect(out).toMatch(/^own: .*mine/m);
      expect(out).not.toMatch(/planted|\.wn-agent-reply/);
    }
  });
});

describe('condor_ssh_to_job', () => {
  it("runs in the job's scratch, as its slot's account, in the job's cgroup; the slot advertises HasSshd", async () => {
    const cluster = await pool.submit(
      submitFile(worker, ['executable = /bin/sleep', 'transfer_executable = False', 'arguments = 120', 'request_memory = 64']),
    );
    const started = await worker.waitForEvent('job-started', (l) => l.jobId === `${cluster}.0`, 120_000);
    const slot = String(started.cgroup).replace(/^jobs\//, '');
    expect(await pool.status(`Name == "${slot}@${machines.get(worker)}"`, ['HasSshd'])).toEqual([['true']]);
    const out = await waitFor(
      async () => {
        const result = await run('podman', [
          'exec',
          '-u',
          'submitter',
          '-w',
          '/home/submitter',
          pool.cm,
          'timeout',
          '60',
          'condor_ssh_to_job',
          `${cluster}.0`,
          'pwd; id -un; grep memory /proc/self/cgroup',
        ]);
        return result.code === 0 && result.stdout.includes('/dir_') ? result.stdout : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 2000, what: `condor_ssh_to_job ${cluster}.0` },
    );
    const [pwd, user, cgroup] = out.trim().split('\n');
    expect(pwd).toMatch(new RegExp(`^${execute}/dir_\\d+$`));
    expect(user).toMatch(/^wnslot\d+$/);
    expect(cgroup).toContain(`/jobs/${slot}/`); // counted against the job's slot
    await pool.exec(['condor_rm', String(cluster)]);
  });
});

describe('nothing left behind', () => {
  it('a job whose daemons escape into a sub-cgroup, a new session, an empty environment, a frozen cgroup, leaves nothing running', async () => {
    // HTCondor hands the job its own cgroup directory; v1's kill reaches only that cgroup's own members.
    const escape = [
      '#!/bin/sh',
      'mine=$(find /sys/fs/cgroup/memory/jobs -mindepth 2 -maxdepth 2 -type d -user "$(id -u)" | head -1)',
      'rel=${mine#/sys/fs/cgroup/memory/}',
      'for c in memory cpu,cpuacct freezer; do mkdir -p "/sys/fs/cgroup/$c/$rel/escape" && echo $$ > "/sys/fs/cgroup/$c/$rel/escape/cgroup.procs" && echo "escaped in $c"; done',
      '( setsid env -i /bin/sleep 601 </dev/null >/dev/null 2>&1 & )',
      'echo "daemon left"',
      // A second one frozen in a freezer cgroup of the job's own: SIGKILL does not end a frozen process on v1.
      'ice="/sys/fs/cgroup/freezer/$rel/escape/ice"',
      'mkdir "$ice" && (sh -c "echo \\$\\$ > $ice/cgroup.procs && exec setsid env -i /bin/sleep 602" </dev/null >/dev/null 2>&1 &)',
      'sleep 1; echo FROZEN > "$ice/freezer.state" && echo "frozen: $(cat "$ice/freezer.state")"',
      '',
    ].join('\n');
    const cluster = await pool.submit(
      submitFile(loose, ['executable = escape.sh', 'output = escape.$(Cluster).out', 'request_memory = 64']),
      {
        'escape.sh': { text: escape, mode: '0755' },
      },
    );
    const [done] = await pool.waitForHistory(cluster, 1, ['JobStatus', 'ExitCode']);
    expect(done).toEqual(['4', '0']);
    const out = await pool.exec(['cat', `escape.${cluster}.out`], { user: 'submitter' });
    expect(out).toContain('escaped in memory');
    expect(out).toMatch(/frozen: (FREEZING|FROZEN)/);
    const killed = await loose.waitForEvent('job-leftovers-killed', (l) => l.jobId === `${cluster}.0`);
    expect(Number(killed.killed)).toBeGreaterThanOrEqual(1);
    const finished = await loose.waitForEvent('job-finished', (l) => l.jobId === `${cluster}.0`);
    expect(Number(finished.leftoversKilled)).toBeGreaterThanOrEqual(1);
    const gone = async (): Promise<string | undefined> => {
      const left = await loose.exec(['sh', '-c', 'pgrep -af "^/bin/sleep 60[12]" || true']);
      return left === '' ? left : undefined;
    };
    expect(await waitFor(gone, { timeoutMs: 20_000, intervalMs: 500, what: 'no escaped daemon left' })).toBe('');
    expect(await loose.exec(['find', '/sys/fs/cgroup/memory/jobs', '/sys/fs/cgroup/freezer/jobs', '-mindepth', '1', '-type', 'd'])).toBe(
      '',
    );
  });
});
