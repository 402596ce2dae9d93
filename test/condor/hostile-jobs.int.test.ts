import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../agent/util/wait.ts';
import { testPool as pool, type Worker } from '../support/pool.ts';

// Real hostile jobs, submitted by the pool's ordinary user and run by HTCondor as that user's mapped account, against
// a worker whose secrets are mounted the careless way: the pool password, a pool token and the admin token all 0644
// (a Kubernetes secret volume's default mode). After each hostile job the same worker must run an ordinary job with
// its traceability attributes recorded, stay ready, and keep the agent's memory bounded.

const dir = `/var/tmp/wn-hostile-${randomBytes(3).toString('hex')}`;
const adminToken = `hostile-admin-token-${randomBytes(8).toString('hex')}`;
let worker: Worker;
let machine: string;
const secrets: Record<string, string> = {};
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

const ordinary = { 'ordinary.sh': { text: '#!/bin/sh\necho ordinary ran\n', mode: '0755' } };
const submitFile = (executable: string, extra: string[] = []): string =>
  [
    `executable = ${executable}`,
    'should_transfer_files = YES',
    'when_to_transfer_output = ON_EXIT',
    `output = ${executable}.$(Cluster).out`,
    'error = $(Cluster).err',
    'log = hostile.log',
    'request_memory = 64',
    `requirements = Machine == "${machine}"`,
    ...extra,
    'queue',
    '',
  ].join('\n');

/** The agent as the worker's operator sees it: /v1/status over the local socket. */
async function agentStatus(): Promise<{ counters: { jobsStarted: number } }> {
  return JSON.parse(await worker.exec(['wn-agent', 'status', '--json'])) as { counters: { jobsStarted: number } };
}

/** The agent's peak resident memory (VmHWM, KiB) and PID: the agent's own memory is outside every job's cgroup. */
async function agentMemory(): Promise<{ pid: string; hwmKiB: number }> {
  const out = await worker.exec([
    'sh',
    '-c',
    'pid=$(pgrep -o -f /opt/wn-agent/wn-agent.mjs) && echo "$pid $(grep VmHWM /proc/$pid/status)"',
  ]);
  const [pid = '', , kib = '0'] = out.trim().split(/\s+/);
  return { pid, hwmKiB: Number(kib) };
}

async function readyz(): Promise<number> {
  const out = await worker.exec([
    'node',
    '-e',
    'fetch("http://127.0.0.1:9680/readyz").then((r) => console.log(r.status), () => console.log(0))',
  ]);
  return Number(out.trim());
}

/** An ordinary job on the same worker: it completes and its ad carries the worker's container ID. */
async function ordinaryJobRuns(): Promise<void> {
  const cluster = await pool.submit(submitFile('ordinary.sh'), ordinary);
  const [job] = await pool.waitForHistory(cluster, 1, ['JobStatus', 'ExitCode', 'ChirpContainerId'], 120_000);
  expect(job).toEqual(['4', '0', await worker.id()]);
  await worker.waitForEvent('job-attributes-recorded', (line) => line.jobId === `${cluster}.0`);
}

beforeAll(async () => {
  await mkdir(`${dir}/tokens`, { recursive: true });
  await mkdir(`${dir}/admin`, { recursive: true });
  await mkdir(`${dir}/serviceaccount`, { recursive: true });
  const pass = await readFile(`${pool.secretDir}/POOL`);
  const token = (await pool.exec(['condor_token_create', '-identity', 'condor@wn.test'])).trim();
  await writeFile(`${dir}/POOL`, pass);
  await writeFile(`${dir}/tokens/pool-token`, `${token}\n`);
  await writeFile(`${dir}/admin/token`, `${adminToken}\n`);
  // A Kubernetes service-account token as the kubelet mounts it by default: world-readable.
  const apiToken = `eyJ-stand-in-service-account-token-${randomBytes(8).toString('hex')}`;
  await writeFile(`${dir}/serviceaccount/token`, apiToken);
  await writeFile(`${dir}/serviceaccount/namespace`, 'grid');
  const secretFiles = [`${dir}/POOL`, `${dir}/tokens/pool-token`, `${dir}/admin/token`, `${dir}/serviceaccount/token`];
  for (const file of secretFiles) await chmod(file, 0o644);
  for (const d of [dir, `${dir}/tokens`, `${dir}/admin`, `${dir}/serviceaccount`]) await chmod(d, 0o755);
  Object.assign(secrets, {
    pool: sha256(pass),
    token: sha256(`${token}\n`),
    admin: sha256(`${adminToken}\n`),
    serviceAccount: sha256(apiToken),
  });
  worker = await pool.startWorker({
    mounts: [
      `${dir}/POOL:/etc/condor/passwords-orig.d/POOL:ro`, // a file mount
      `${dir}/tokens:/etc/condor/tokens-orig.d:ro`, // a directory mount
      `${dir}/admin:/etc/wn-agent/secret:ro`,
      `${dir}/serviceaccount:/var/run/secrets/kubernetes.io/serviceaccount:ro`,
      pool.testConfigMount,
    ],
    env: { WN_ADMIN_TOKEN_FILE: '/etc/wn-agent/secret/token' },
  });
  await worker.waitForEvent('startd-advertised');
  machine = `${worker.name}-${(await worker.id()).slice(0, 12)}`;
});
afterAll(async () => {
  await worker?.remove();
  await rm(dir, { recursive: true, force: true });
});

describe('hostile jobs on a worker whose secrets were mounted readable by all', () => {
  it('the agent says where each mounted secret went: covered, before HTCondor started', async () => {
    const installed = await worker.waitForEvent('credentials-installed');
    expect(installed.hiddenFromJobs).toEqual([
      { path: '/etc/condor/passwords-orig.d/POOL', how: 'covered-file', covered: '/etc/condor/passwords-orig.d/POOL' },
      { path: '/etc/condor/tokens-orig.d', how: 'covered-dir', covered: '/etc/condor/tokens-orig.d' },
      { path: '/etc/wn-agent/secret/token', how: 'covered-dir', covered: '/etc/wn-agent/secret' },
      {
        path: '/var/run/secrets/kubernetes.io/serviceaccount',
        how: 'covered-dir',
        covered: expect.stringMatching(/\/run\/secrets\/kubernetes\.io\/serviceaccount$/),
      },
    ]);
  });

  it('a job that looks for credentials everywhere they were or could be finds none', async () => {
    // Prints the hash of every file it can read where a secret was, is, or could be, and every environment and
    // command line it can see; the test compares with the real secrets' hashes and the admin token.
    const hunter = [
      '#!/bin/sh',
      'echo "uid=$(id -u)"',
      'for f in /etc/condor/passwords-orig.d/* /etc/condor/passwords-orig.d/.* /etc/condor/tokens-orig.d/* /etc/condor/tokens-orig.d/.* \\',
      '  /etc/wn-agent/secret/* /var/lib/wn-agent/condor/passwords.d/* /var/lib/wn-agent/condor/tokens.d/* /etc/condor/passwords.d/* \\',
      '  /etc/condor/tokens.d/* /run/wn-agent/* /var/run/secrets/kubernetes.io/serviceaccount/* $(find / -xdev \\( -name POOL -o -name "*token*" \\) 2>/dev/null); do',
      '  [ -f "$f" ] && [ -r "$f" ] && echo "readable $f $(sha256sum < "$f" | cut -d" " -f1)"',
      'done',
      'for p in /proc/[0-9]*; do tr "\\0" "\\n" < $p/environ 2>/dev/null; tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done',
      'env',
      'echo hunted',
    ].join('\n');
    const cluster = await pool.submit(submitFile('hunter.sh'), { 'hunter.sh': { text: `${hunter}\n`, mode: '0755' } });
    const [job] = await pool.waitForHistory(cluster, 1, ['JobStatus', 'ExitCode'], 120_000);
    expect(job?.[0]).toBe('4');
    const output = await pool.exec(['cat', `hunter.sh.${cluster}.out`], { user: 'submitter' });
    expect(output).toContain('hunted');
    expect(output).toMatch(/^uid=[1-9]\d*$/m); // not root
    for (const [name, hash] of Object.entries(secrets)) expect(output, `${name} readable by the job`).not.toContain(hash);
    expect(output).not.toContain(adminToken);
    expect(output).not.toMatch(/WN_ADMIN_TOKEN/);
  });

  it("a job cannot open a connection to the agent's admin port, on 127.0.0.1 or the container's address; the agent's own tools still can", async () => {
    const knocker = [
      '#!/bin/bash',
      'for target in 127.0.0.1/9680 "$(hostname -i | cut -d" " -f1)/9680"; do',
      '  if timeout 5 bash -c "exec 3<>/dev/tcp/$target" 2>/dev/null; then echo "reached $target"; else echo "refused $target"; fi',
      'done',
      'echo knocked',
    ].join('\n');
    const cluster = await pool.submit(submitFile('knocker.sh'), { 'knocker.sh': { text: `${knocker}\n`, mode: '0755' } });
    await pool.waitForHistory(cluster, 1, ['JobStatus'], 120_000);
    const output = await pool.exec(['cat', `knocker.sh.${cluster}.out`], { user: 'submitter' });
    expect(output).toContain('knocked');
    expect(output).toMatch(/^refused 127\.0\.0\.1\/9680$/m);
    expect(output).toMatch(/^refused [\d.]+\/9680$/m);
    expect(output).not.toContain('reached');
    // What an operator looks at: the rules in the container's OUTPUT chain, and the agent answering its own tools.
    const rules = await worker.exec(['iptables', '-S', 'WN-AGENT-JOBS']);
    expect(rules).toMatch(/--dport 9680 -m owner --uid-owner 6001-\d+ -j REJECT/);
    expect(rules).toMatch(/-d 169\.254\.169\.254\/32 -m owner --uid-owner 6001-\d+ -j REJECT/);
    expect(await worker.waitForEvent('job-firewall')).toMatchObject({ uids: { first: 6001 } });
    expect(await readyz()).toBe(200);
  });

  it("a job that asks its worker's startd for a token (condor_token_fetch, authenticated by FS as its slot account) gets none", async () => {
    // FS authentication needs a /tmp the daemon and the job share: HTCondor's MOUNT_UNDER_SCRATCH (default /tmp,
    // /var/tmp) gives each job its own, and FS fails. A site that turns it off shares /tmp, and there the startd's
    // refusal is the only guard: that is the worker this job runs on.
    await writeFile(`${dir}/shared-tmp.conf`, 'MOUNT_UNDER_SCRATCH =\n');
    const shared = await pool.startWorker({
      mounts: [pool.passwordMount, pool.testConfigMount, `${dir}/shared-tmp.conf:/etc/wn-agent/condor.d/60-shared-tmp.conf:ro`],
    });
    await shared.waitForEvent('startd-advertised');
    const sharedMachine = `${shared.name}-${(await shared.id()).slice(0, 12)}`;
    // The startd's address is in the machine ad HTCondor puts into every job's scratch directory.
    const fetcher = [
      '#!/bin/sh',
      'addr=$(sed -n \'s/^MyAddress = "\\(.*\\)"$/\\1/p\' "$_CONDOR_MACHINE_AD")',
      'echo "startd at $addr"',
      'export CONDOR_CONFIG=/etc/condor/condor_config HOME="$_CONDOR_SCRATCH_DIR"',
      'echo "default key: $(condor_token_fetch -type STARTD -name "$addr" 2>&1)"',
      'echo "POOL key: $(condor_token_fetch -type STARTD -name "$addr" -key POOL 2>&1)"',
      'echo "as a READ-level identity: $(condor_ping -type STARTD -name "$addr" READ 2>&1 | tail -1)"',
      'echo fetched',
    ].join('\n');
    const submit = submitFile('fetcher.sh').replace(`Machine == "${machine}"`, `Machine == "${sharedMachine}"`);
    const cluster = await pool.submit(submit, { 'fetcher.sh': { text: `${fetcher}\n`, mode: '0755' } });
    await pool.waitForHistory(cluster, 1, ['JobStatus'], 120_000);
    const output = await pool.exec(['cat', `fetcher.sh.${cluster}.out`], { user: 'submitter' });
    expect(output).toContain('fetched');
    expect(output).toMatch(/^startd at <[\d.]+:\d+/m);
    // It did reach the startd (its FS identity is accepted for READ): the refusal is the daemon's, not the network's.
    expect(output).toMatch(/^as a READ-level identity: READ command using .* succeeded as wnslot\d+@/m);
    expect(output).toMatch(/^default key: .*Server does not have access to configured key/m);
    expect(output).toMatch(/^POOL key: .*Server will not sign with requested key/m);
    expect(output).not.toContain('eyJ'); // no JSON web token of any kind
    await shared.remove();
  });

  it('a job that wedges with FIFOs and links in its scratch directory, and forges its requests, leaves the worker serving', async () => {
    const wedger = [
      '#!/bin/sh',
      'cd "$_CONDOR_SCRATCH_DIR" || exit 1',
      'requests=/run/wn-agent/jobs/requests',
      'rm -f .job.ad .chirp.config .wn-agent-reply',
      'mkfifo .job.ad .wn-agent-reply && ln -s /var/lib/wn-agent/condor/passwords.d/POOL .chirp.config',
      'exec 3<>.wn-agent-reply # a reader, so that the agent would answer into it',
      'for i in 1 2 3 4 5 6 7 8; do printf "%s\\n" "$_CONDOR_SCRATCH_DIR" > $requests; done',
      'rm -f .chirp.config && ln -s /dev/zero .chirp.config',
      'for i in 1 2 3 4 5 6 7 8; do printf "%s\\n" "$_CONDOR_SCRATCH_DIR" > $requests; done',
      'sleep 5',
      // HTCondor's own output transfer opens every new file in the scratch directory and blocks for good on a FIFO
      // left there (HTCondor 23.9): a job can wedge its own starter and slot that way, with or without the agent.
      // That is not what this test is about, so the job takes its FIFOs away before it ends.
      'rm -f .job.ad .chirp.config .wn-agent-reply',
      'echo wedged',
    ].join('\n');
    const before = await agentMemory();
    const cluster = await pool.submit(submitFile('wedger.sh'), { 'wedger.sh': { text: `${wedger}\n`, mode: '0755' } });
    await pool.waitForHistory(cluster, 1, ['JobStatus'], 120_000);
    await ordinaryJobRuns();
    expect(await readyz()).toBe(200);
    expect((await agentMemory()).pid).toBe(before.pid); // the same agent: it never went away
    const logs = JSON.stringify(await worker.jsonLogs());
    expect(logs).not.toContain(secrets.pool); // nothing of the linked root-only file in a log line either
  });

  it('a job that floods the requests FIFO with a 700 MB line and 200,000 short ones does not grow or stop the agent', async () => {
    const flooder = [
      '#!/bin/sh',
      'requests=/run/wn-agent/jobs/requests',
      "head -c 700000000 /dev/zero | tr '\\0' a > $requests",
      'seq 1 200000 | sed "s/^/garbage line /" > $requests',
      'echo flooded',
    ].join('\n');
    const before = await agentMemory();
    const cluster = await pool.submit(submitFile('flooder.sh'), { 'flooder.sh': { text: `${flooder}\n`, mode: '0755' } });
    const [job] = await pool.waitForHistory(cluster, 1, ['JobStatus', 'ExitCode'], 240_000);
    expect(job).toEqual(['4', '0']);
    await ordinaryJobRuns();
    const after = await agentMemory();
    expect(after.pid).toBe(before.pid);
    // Before the line limit, readline kept the whole line: the agent grew past 1 GB and died. Now it keeps 4 KiB of it.
    expect(after.hwmKiB).toBeLessThan(200 * 1024);
    const dropped = (await worker.jsonLogs()).filter((line) => line.event === 'job-requests-dropped');
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.length).toBeLessThan(10); // counts once per interval, never a line per request
    expect(JSON.stringify(dropped)).not.toContain('garbage');
  });

  it("a job that forges other jobs' requests while an ordinary job starts counts no job start and holds nobody up", async () => {
    const forger = [
      '#!/bin/sh',
      'execute=$(dirname "$_CONDOR_SCRATCH_DIR")',
      'end=$(( $(date +%s) + 20 ))',
      'while [ $(date +%s) -lt $end ]; do',
      '  seq 2 40000 | sed "s|^|$execute/dir_|" > /run/wn-agent/jobs/requests',
      'done',
      'echo forged',
    ].join('\n');
    const forgerCluster = await pool.submit(submitFile('forger.sh', ['request_cpus = 1']), {
      'forger.sh': { text: `${forger}\n`, mode: '0755' },
    });
    await waitFor(
      async () =>
        (await pool.exec(['condor_q', '-allusers', String(forgerCluster), '-af', 'JobStatus'])).trim() === '2' ? true : undefined,
      {
        timeoutMs: 120_000,
        intervalMs: 1000,
        what: 'the forger running',
      },
    );
    await ordinaryJobRuns(); // while the forger floods
    await pool.waitForHistory(forgerCluster, 1, ['JobStatus'], 120_000);
    // Every job start the agent counted is a job that ran here: hunter, knocker, wedger, flooder, forger and three
    // ordinary ones.
    const ran = await pool.history(`regexp("@${machine}$", LastRemoteHost)`, ['ClusterId']);
    expect((await agentStatus()).counters.jobsStarted).toBe(ran.length);
    expect(ran.length).toBe(8);
    expect(await readyz()).toBe(200);
  });
});
