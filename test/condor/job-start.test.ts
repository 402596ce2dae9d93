import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { isCondorStarter, JobStartServer, type JobStart, type JobStartOptions } from '../../agent/condor/job-start.ts';
import { repoRoot } from '../support/exec.ts';
import { waitFor } from '../../agent/util/wait.ts';

// A full collection on demand, for heap comparisons that must not read garbage as retention.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const run = promisify(execFile);

// Real FIFOs and the real image/libexec/job-wrapper (its fixed /run/wn-agent path pointed at a temporary directory);
// the starter's Chirp server is a loopback stand-in here (the real one is in test/metadata/traceability.int.test.ts).
let server: JobStartServer | undefined;
const standIns: net.Server[] = [];
afterEach(async () => {
  await server?.stop();
  for (const standIn of standIns.splice(0)) standIn.close();
  server = undefined;
});

/** A starter's Chirp server stand-in; `answer` is its result line for every command ("0" is success). */
async function chirpStandIn(answer = '0'): Promise<{ port: number; received: string[] }> {
  const received: string[] = [];
  const standIn = net.createServer((socket) => {
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        received.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        socket.write(`${answer}\n`);
      }
    });
  });
  standIns.push(standIn);
  await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
  return { port: (standIn.address() as net.AddressInfo).port, received };
}

interface Setup {
  root: string;
  execute: string;
  wrapper: string;
  starts: JobStart[];
  problems: string[];
  dropped: Record<string, number>[];
}

/** The server as the agent builds it; every PID in `starters` is a starter of this worker (the tests' fake PIDs). */
function serve(t: Setup, attributes: Record<string, string>, starters: number[], extra: Partial<JobStartOptions> = {}): JobStartServer {
  server = new JobStartServer({
    dir: join(t.root, 'run/jobs'),
    executeDir: t.execute,
    attributes,
    onStart: (s) => t.starts.push(s),
    onDropped: (counts) => t.dropped.push(counts),
    onProblem: (m) => t.problems.push(m),
    isStarter: (pid) => starters.includes(pid),
    reportIntervalMs: 100,
    ...extra,
  });
  return server;
}

async function setup(): Promise<Setup> {
  const root = await mkdtemp(join(tmpdir(), 'wn-jobstart-'));
  const execute = join(root, 'execute');
  await mkdir(execute);
  const wrapper = join(root, 'job-wrapper');
  const text = await readFile(join(repoRoot, 'image/libexec/job-wrapper'), 'utf8');
  await writeFile(wrapper, text.replaceAll('/run/wn-agent/jobs', join(root, 'run/jobs')), { mode: 0o755 });
  return { root, execute, wrapper, starts: [], problems: [], dropped: [] };
}

async function scratchDir(execute: string, starterPid: number, chirpPort?: number): Promise<string> {
  const dir = join(execute, `dir_${starterPid}`);
  await mkdir(dir);
  await writeFile(join(dir, '.job.ad'), 'ClusterId = 42\nProcId = 7\nOwner = "alice"\n');
  if (chirpPort) await writeFile(join(dir, '.chirp.config'), `127.0.0.1 ${chirpPort} s3cret\n`);
  return dir;
}

describe('JobStartServer with the real job wrapper', () => {
  it('records every attribute over one chirp connection before the job runs, then the wrapper becomes the job', async () => {
    const t = await setup();
    const { port, received } = await chirpStandIn();
    serve(t, { ChirpContainerId: 'abc def', ChirpImage: 'img:1' }, [4242]);
    await server?.start();
    const scratch = await scratchDir(t.execute, 4242, port);
    // The job checks that its attributes were recorded before it ran: the stand-in saw them by then.
    const { stdout } = await run(t.wrapper, ['/bin/sh', '-c', 'echo "job ran as $$"'], {
      env: { ...process.env, _CONDOR_SCRATCH_DIR: scratch },
    });
    expect(stdout).toMatch(/^job ran as \d+$/m);
    expect(received).toEqual([
      'cookie s3cret',
      'set_job_attr_delayed ChirpContainerId "abc\\ def"',
      'set_job_attr_delayed ChirpImage "img:1"',
    ]);
    await waitFor(async () => (t.starts.length === 1 ? true : undefined), { timeoutMs: 2000, intervalMs: 10, what: 'job start' });
    expect(t.starts[0]).toMatchObject({ jobId: '42.7', starterPid: 4242, failed: [] });
    expect(await readdir(scratch)).not.toContain('.wn-agent-reply'); // removed by the agent, no rm process in the wrapper
    expect(t.problems).toEqual([]);
  });

  it("records the attributes as soon as the starter's Chirp server is up, so the job's request is answered without a second exchange", async () => {
    const t = await setup();
    const { port, received } = await chirpStandIn();
    serve(t, { ChirpContainerId: 'c-1' }, [4545]);
    await server?.start();
    const scratch = await scratchDir(t.execute, 4545, port);
    await scratchDir(t.execute, 999, port); // a starter's directory, but not a starter this worker placed
    server?.prepare(4545);
    server?.prepare(4545); // the log line read twice (a flush and a tick): one exchange
    server?.prepare(999); // not a starter of this worker: nothing
    await waitFor(async () => (received.length === 2 ? true : undefined), { timeoutMs: 2000, intervalMs: 10, what: 'early chirp' });
    expect(t.starts).toEqual([]); // no job start counted before the job wrapper asks
    const { stdout } = await run(t.wrapper, ['/bin/echo', 'ran'], { env: { ...process.env, _CONDOR_SCRATCH_DIR: scratch } });
    expect(stdout).toBe('ran\n');
    await waitFor(async () => (t.starts.length === 1 ? true : undefined), { timeoutMs: 2000, intervalMs: 10, what: 'job start' });
    expect(received).toEqual(['cookie s3cret', 'set_job_attr_delayed ChirpContainerId "c-1"']);
    expect(t.starts[0]).toMatchObject({ jobId: '42.7', starterPid: 4545, failed: [] });
  });

  it("records again at the job wrapper's request when the early recording failed", async () => {
    const t = await setup();
    const refusing = await chirpStandIn('-1'); // refuses the cookie: the early recording fails
    const { port, received } = await chirpStandIn();
    serve(t, { ChirpContainerId: 'c-2' }, [4646]);
    await server?.start();
    const scratch = await scratchDir(t.execute, 4646, refusing.port);
    server?.prepare(4646);
    await waitFor(async () => (refusing.received.length === 2 ? true : undefined), { timeoutMs: 2000, intervalMs: 10, what: 'early try' });
    await writeFile(join(scratch, '.chirp.config'), `127.0.0.1 ${port} s3cret\n`);
    await run(t.wrapper, ['/bin/true'], { env: { ...process.env, _CONDOR_SCRATCH_DIR: scratch } });
    await waitFor(async () => (t.starts.length === 1 ? true : undefined), { timeoutMs: 2000, intervalMs: 10, what: 'job start' });
    expect(received).toEqual(['cookie s3cret', 'set_job_attr_delayed ChirpContainerId "c-2"']);
    expect(t.starts[0]).toMatchObject({ jobId: '42.7', starterPid: 4646, failed: [] });
  });

  it('answers the wrapper while it still waits when the early recording hangs, trying again only with time left', async () => {
    const t = await setup();
    // A Chirp server that accepts and never answers: each recording waits for its whole chirp timeout.
    let connections = 0;
    const silent = net.createServer(() => void (connections += 1));
    standIns.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    // 1.5 s of chirp, answers within 3 s: after the early try fails there is no time for a whole second one.
    serve(t, { ChirpContainerId: 'c-3' }, [4747], { chirpTimeoutMs: 1500, answerWithinMs: 3000 });
    await server?.start();
    const scratch = await scratchDir(t.execute, 4747, (silent.address() as net.AddressInfo).port);
    server?.prepare(4747);
    const { stdout } = await run(t.wrapper, ['/bin/echo', 'ran'], { env: { ...process.env, _CONDOR_SCRATCH_DIR: scratch } });
    expect(stdout).toBe('ran\n');
    await waitFor(async () => (t.starts.length === 1 ? true : undefined), { timeoutMs: 10_000, intervalMs: 10, what: 'job start' });
    expect(t.starts[0]).toMatchObject({ jobId: '42.7', starterPid: 4747, failed: ['ChirpContainerId'] });
    expect(connections).toBe(1); // no second exchange that could end after the job started
    expect(t.problems).toEqual([]); // the answer found the wrapper still waiting (it removes its FIFO when it stops)
  });

  it('runs the job when chirp is unavailable, and reports every attribute as failed', async () => {
    const t = await setup();
    serve(t, { ChirpTaskId: 't-1' }, [4343]);
    await server?.start();
    const scratch = await scratchDir(t.execute, 4343); // no .chirp.config: ENABLE_CHIRP off, or an old starter
    const { stdout } = await run(t.wrapper, ['/bin/echo', 'still ran'], { env: { ...process.env, _CONDOR_SCRATCH_DIR: scratch } });
    expect(stdout.trim()).toBe('still ran');
    await waitFor(async () => (t.starts.length === 1 ? true : undefined), { timeoutMs: 2000, intervalMs: 10, what: 'job start' });
    expect(t.starts[0]?.failed).toEqual(['ChirpTaskId']);
    expect(t.starts[0]?.error).toMatch(/ENOENT/);
  });

  it('runs the job at once when no agent listens', async () => {
    const t = await setup();
    const scratch = await scratchDir(t.execute, 4444);
    const { stdout } = await run(t.wrapper, ['/bin/echo', 'alone'], { env: { ...process.env, _CONDOR_SCRATCH_DIR: scratch } });
    expect(stdout.trim()).toBe('alone');
  });

  it('ignores requests outside the execute directory and never writes through a symbolic link', async () => {
    const t = await setup();
    serve(t, { ChirpTaskId: 't-1' }, [4545]);
    await server?.start();
    await writeFile(join(t.root, 'run/jobs/requests'), '/etc\n');
    const scratch = await scratchDir(t.execute, 4545);
    const victim = join(t.root, 'victim');
    await writeFile(victim, 'untouched\n');
    await symlink(victim, join(scratch, '.wn-agent-reply'));
    await writeFile(join(t.root, 'run/jobs/requests'), `${scratch}\n`);
    await waitFor(async () => (t.dropped.length === 2 ? true : undefined), { timeoutMs: 3000, intervalMs: 10, what: 'two drops' });
    // "/etc" is malformed; the symbolic link is not the wrapper's reply FIFO, so nothing is done for that directory.
    expect(t.dropped).toEqual([{ malformed: 1 }, { 'no-reply-fifo': 1 }]);
    expect(t.starts).toEqual([]);
    expect(await readFile(victim, 'utf8')).toBe('untouched\n');
  });
});

describe('JobStartServer against hostile jobs (real FIFOs, links and floods in a scratch directory)', () => {
  const mkfifo = (path: string): Promise<unknown> => run('mkfifo', ['-m', '600', path]);

  it('a job ad that is a FIFO and a chirp config linked to a root-only file neither wedge the agent nor leak the file', async () => {
    const t = await setup();
    const { port } = await chirpStandIn();
    serve(t, { ChirpTaskId: 't-1' }, [5001, 5002]);
    await server?.start();
    const secret = join(t.root, 'POOL');
    await writeFile(secret, 'the-pool-password\n', { mode: 0o600 });
    const hostile = join(t.execute, 'dir_5001');
    await mkdir(hostile);
    await mkfifo(join(hostile, '.job.ad')); // a blocking read would hold a libuv thread for good
    await symlink(secret, join(hostile, '.chirp.config'));
    // The hostile job runs the real wrapper: it waits for an answer, which comes although nothing could be read.
    const { stdout } = await run(t.wrapper, ['/bin/echo', 'hostile ran'], { env: { ...process.env, _CONDOR_SCRATCH_DIR: hostile } });
    expect(stdout.trim()).toBe('hostile ran');
    await waitFor(async () => (t.starts.length === 1 ? true : undefined), { timeoutMs: 3000, intervalMs: 10, what: 'hostile start' });
    expect(t.starts[0]).toMatchObject({ jobId: '', starterPid: 5001, failed: ['ChirpTaskId'] });
    expect(t.starts[0]?.error).toMatch(/ELOOP/);
    expect(JSON.stringify(t.starts)).not.toContain('pool-password');
    // The next, ordinary job is served in full.
    const next = await scratchDir(t.execute, 5002, port);
    await run(t.wrapper, ['/bin/true'], { env: { ...process.env, _CONDOR_SCRATCH_DIR: next } });
    await waitFor(async () => (t.starts.length === 2 ? true : undefined), { timeoutMs: 3000, intervalMs: 10, what: 'next start' });
    expect(t.starts[1]).toMatchObject({ jobId: '42.7', starterPid: 5002, failed: [] });
  });

  it('a huge line and a partial line are dropped without being kept, and the next request is served', async () => {
    const t = await setup();
    const { port } = await chirpStandIn();
    serve(t, { ChirpTaskId: 't-1' }, [5101]);
    await server?.start();
    const requests = join(t.root, 'run/jobs/requests');
    // 64 MiB in one line (the FIFO is read as it streams: the agent keeps at most 4 KiB of it), then a partial line.
    // The baseline before the flood (after a full collection), so that a line kept would show as 64 MiB more.
    gc();
    const heap = process.memoryUsage().heapUsed;
    await run('sh', ['-c', `head -c 67108864 /dev/zero | tr '\\0' a > ${requests}; printf '\\npartial-no-newline' > ${requests}`], {
      maxBuffer: 1024,
    });
    const scratch = await scratchDir(t.execute, 5101, port);
    const { stdout } = await run(t.wrapper, ['/bin/echo', 'served'], { env: { ...process.env, _CONDOR_SCRATCH_DIR: scratch } });
    expect(stdout.trim()).toBe('served');
    await waitFor(async () => (t.starts.length === 1 ? true : undefined), {
      timeoutMs: 3000,
      intervalMs: 10,
      what: 'start after the flood',
    });
    expect(t.starts[0]).toMatchObject({ starterPid: 5101, failed: [] });
    gc();
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(32 * 1048576);
    await waitFor(async () => (t.dropped.some((d) => d.overlong) ? true : undefined), {
      timeoutMs: 3000,
      intervalMs: 10,
      what: 'overlong reported',
    });
    expect(server?.droppedTotal).toMatchObject({ overlong: 1, malformed: 1 }); // the partial line, ended by the wrapper's newline
  });

  it('forged requests for other directories count no job start, and a flood of them is reported as counts a few times', async () => {
    const t = await setup();
    const { port } = await chirpStandIn();
    serve(t, { ChirpTaskId: 't-1' }, [5201]);
    await server?.start();
    const requests = join(t.root, 'run/jobs/requests');
    const victim = join(t.execute, 'dir_5201');
    await mkdir(victim);
    const forged = [
      ...Array.from({ length: 20_000 }, (_, i) => `${t.execute}/dir_${i + 1}`), // not starters of this worker
      ...Array.from({ length: 2000 }, () => victim), // a real starter, before its wrapper made a reply FIFO
      ...Array.from({ length: 20_000 }, (_, i) => `garbage ${i} \u001b[31m`),
    ];
    await writeFile(requests, `${forged.join('\n')}\n`);
    await waitFor(async () => (Object.values(server?.droppedTotal ?? {}).reduce((a, b) => a + b, 0) >= 42_000 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 20,
      what: 'every forged line dropped',
    });
    expect(t.starts).toEqual([]);
    expect(t.dropped.length).toBeLessThan(5); // one report at once, then counts per interval
    // The victim's own wrapper is then served normally, once.
    await writeFile(join(victim, '.job.ad'), 'ClusterId = 9\nProcId = 0\n');
    await writeFile(join(victim, '.chirp.config'), `127.0.0.1 ${port} c\n`);
    await run(t.wrapper, ['/bin/true'], { env: { ...process.env, _CONDOR_SCRATCH_DIR: victim } });
    await writeFile(requests, `${victim}\n${victim}\n`); // replays after the answer
    await waitFor(async () => (t.starts.length === 1 ? true : undefined), { timeoutMs: 3000, intervalMs: 10, what: 'victim start' });
    await waitFor(async () => ((server?.droppedTotal.duplicate ?? 0) >= 2 ? true : undefined), {
      timeoutMs: 3000,
      intervalMs: 10,
      what: 'replays dropped',
    });
    expect(t.starts).toHaveLength(1);
    expect(t.starts[0]).toMatchObject({ jobId: '9.0', starterPid: 5201, failed: [] });
  });
});

describe('isCondorStarter (a /proc tree written here)', () => {
  it("accepts a condor_starter whose parent is a condor_startd, not a job's program named condor_starter", async () => {
    const proc = await mkdtemp(join(tmpdir(), 'wn-proc-'));
    const stat = async (pid: number, comm: string, ppid: number): Promise<void> => {
      await mkdir(join(proc, String(pid)));
      await writeFile(join(proc, String(pid), 'stat'), `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560\n`);
    };
    await stat(20, 'condor_startd', 10);
    await stat(47, 'condor_starter', 20); // the startd's child
    await stat(60, 'sh', 47); // the job
    await stat(61, 'condor_starter', 60); // a job's copy of /bin/sleep named condor_starter
    expect(await isCondorStarter(47, proc)).toBe(true);
    expect(await isCondorStarter(61, proc)).toBe(false);
    expect(await isCondorStarter(60, proc)).toBe(false);
    expect(await isCondorStarter(99, proc)).toBe(false);
  });
});
