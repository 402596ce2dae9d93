import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { JobStartServer, type JobStart } from '../../agent/condor/job-start.ts';
import { repoRoot } from '../support/exec.ts';
import { waitFor } from '../../agent/util/wait.ts';

const run = promisify(execFile);

// Real FIFOs and the real image/libexec/job-wrapper (its fixed /run/wn-agent path pointed at a temporary directory);
// the starter's Chirp server is a loopback stand-in here (the real one is in test/metadata/traceability.int.test.ts).
let server: JobStartServer | undefined;
let chirp: net.Server | undefined;
afterEach(async () => {
  await server?.stop();
  chirp?.close();
  server = undefined;
});

async function chirpStandIn(): Promise<{ port: number; received: string[] }> {
  const received: string[] = [];
  chirp = net.createServer((socket) => {
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        received.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        socket.write('0\n');
      }
    });
  });
  await new Promise<void>((resolve) => chirp?.listen(0, '127.0.0.1', resolve));
  return { port: (chirp?.address() as net.AddressInfo).port, received };
}

async function setup(): Promise<{ root: string; execute: string; wrapper: string; starts: JobStart[]; problems: string[] }> {
  const root = await mkdtemp(join(tmpdir(), 'wn-jobstart-'));
  const execute = join(root, 'execute');
  await mkdir(execute);
  const wrapper = join(root, 'job-wrapper');
  const text = await readFile(join(repoRoot, 'image/libexec/job-wrapper'), 'utf8');
  await writeFile(wrapper, text.replaceAll('/run/wn-agent/jobs', join(root, 'run/jobs')), { mode: 0o755 });
  return { root, execute, wrapper, starts: [], problems: [] };
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
    server = new JobStartServer(join(t.root, 'run/jobs'), t.execute, { ChirpContainerId: 'abc def', ChirpImage: 'img:1' }, (s) => t.starts.push(s), (m) => t.problems.push(m));
    await server.start();
    const scratch = await scratchDir(t.execute, 4242, port);
    // The job checks that its attributes were recorded before it ran: the stand-in saw them by then.
    const { stdout } = await run(t.wrapper, ['/bin/sh', '-c', 'echo "job ran as $$"'], { env: { ...process.env, _CONDOR_SCRATCH_DIR: scratch } });
    expect(stdout).toMatch(/^job ran as \d+$/m);
    expect(received).toEqual(['cookie s3cret', 'set_job_attr_delayed ChirpContainerId "abc\\ def"', 'set_job_attr_delayed ChirpImage "img:1"']);
    await waitFor(async () => (t.starts.length === 1 ? true : undefined), { timeoutMs: 2000, intervalMs: 10, what: 'job start' });
    expect(t.starts[0]).toMatchObject({ jobId: '42.7', starterPid: 4242, failed: [] });
    expect(await readdir(scratch)).not.toContain('.wn-agent-reply'); // removed by the agent, no rm process in the wrapper
    expect(t.problems).toEqual([]);
  });

  it('runs the job when chirp is unavailable, and reports every attribute as failed', async () => {
    const t = await setup();
    server = new JobStartServer(join(t.root, 'run/jobs'), t.execute, { ChirpTaskId: 't-1' }, (s) => t.starts.push(s), (m) => t.problems.push(m));
    await server.start();
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
    server = new JobStartServer(join(t.root, 'run/jobs'), t.execute, { ChirpTaskId: 't-1' }, (s) => t.starts.push(s), (m) => t.problems.push(m));
    await server.start();
    await writeFile(join(server.dir, 'requests'), '/etc\n');
    const scratch = await scratchDir(t.execute, 4545);
    const victim = join(t.root, 'victim');
    await writeFile(victim, 'untouched\n');
    await symlink(victim, join(scratch, '.wn-agent-reply'));
    await writeFile(join(server.dir, 'requests'), `${scratch}\n`);
    await waitFor(async () => (t.problems.length === 2 ? true : undefined), { timeoutMs: 3000, intervalMs: 10, what: 'two problems' });
    expect(t.problems).toEqual(['job start request does not name a scratch directory', 'cannot answer the job wrapper']);
    expect(await readFile(victim, 'utf8')).toBe('untouched\n');
  });
});
