import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../agent/health/run-check.ts';
import { waitFor } from '../../agent/util/wait.ts';

// Real check programs (sh scripts) in a temporary directory, run as the agent runs a site's checks.
let dir: string;
const env = { PATH: '/usr/bin:/bin', HOME: '/' };

async function script(name: string, body: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

/** Alive = in the process table and not a zombie (a killed orphan waits there until its new parent reaps it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function grandchildPid(file: string): Promise<number> {
  return waitFor(async () => Number((await readFile(file, 'utf8').catch(() => '')).trim()) || undefined, {
    timeoutMs: 5000,
    intervalMs: 10,
    what: `a PID in ${file}`,
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wn-health-run-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runCheck', () => {
  it('exit 0 is healthy', async () => {
    const file = await script('pass', 'echo "all good"\nexit 0');
    const result = await runCheck(file, { timeoutMs: 5000, env });
    expect(result).toMatchObject({ ok: true });
    expect(result.reason).toBeUndefined();
  });

  it('a non-zero exit is unhealthy, with the first line of stdout as the reason (stderr when stdout says nothing)', async () => {
    const failing = await script('fail', 'echo\necho "  /scratch is full (98 %)  "\necho "second line"\nexit 3');
    expect(await runCheck(failing, { timeoutMs: 5000, env })).toMatchObject({ ok: false, reason: 'exit 3: /scratch is full (98 %)' });
    const quiet = await script('quiet', 'echo "no space left" >&2\nexit 1');
    expect(await runCheck(quiet, { timeoutMs: 5000, env })).toMatchObject({ ok: false, reason: 'exit 1: no space left' });
    const silent = await script('silent', 'exit 7');
    expect(await runCheck(silent, { timeoutMs: 5000, env })).toMatchObject({ ok: false, reason: 'exit 7' });
  });

  it('a check killed by a signal says which', async () => {
    const file = await script('segv', 'kill -SEGV $$');
    expect(await runCheck(file, { timeoutMs: 5000, env })).toMatchObject({ ok: false, reason: 'killed by SIGSEGV' });
  });

  it('kills a hung check and everything it forked at the deadline', async () => {
    const pidFile = join(dir, 'hang.pid');
    const file = await script('hang', `sleep 300 &\necho $! > ${pidFile}\nsleep 300`);
    const started = Date.now();
    const run = runCheck(file, { timeoutMs: 700, env });
    const grandchild = await grandchildPid(pidFile);
    expect(alive(grandchild)).toBe(true); // the check's own child, running while the check runs
    const result = await run;
    expect(result).toMatchObject({ ok: false, reason: 'timed out after 0.7 s' });
    expect(Date.now() - started).toBeLessThan(3000);
    await waitFor(async () => (alive(grandchild) ? undefined : true), { timeoutMs: 2000, intervalMs: 20, what: 'the forked sleep gone' });
  });

  it('kills what a check left behind when it exits', async () => {
    const pidFile = join(dir, 'leave.pid');
    const file = await script('leave', `sleep 300 &\necho $! > ${pidFile}\nexit 0`);
    const started = Date.now();
    expect(await runCheck(file, { timeoutMs: 10_000, env })).toMatchObject({ ok: true });
    expect(Date.now() - started).toBeLessThan(3000); // the background sleep held stdout open: not waited for
    const grandchild = await grandchildPid(pidFile);
    await waitFor(async () => (alive(grandchild) ? undefined : true), { timeoutMs: 2000, intervalMs: 20, what: 'the left sleep gone' });
  });

  it('reads a flood of output to its end but keeps only its first bytes; the reason is cut at 200 characters', async () => {
    const file = await script('flood', "head -c 5000000 /dev/zero | tr '\\0' x\necho\nexit 2");
    const result = await runCheck(file, { timeoutMs: 10_000, env });
    expect(result.ok).toBe(false);
    expect(result.reason).toBe(`exit 2: ${'x'.repeat(199)}…`);
    const forever = await script('flood-forever', 'while :; do echo flood; done');
    expect(await runCheck(forever, { timeoutMs: 500, env })).toMatchObject({ ok: false, reason: 'timed out after 0.5 s' });
  });

  it('a file that cannot be run fails with the reason', async () => {
    const file = join(dir, 'not-executable');
    await writeFile(file, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    expect(await runCheck(file, { timeoutMs: 5000, env })).toMatchObject({ ok: false, reason: 'cannot run: EACCES' });
  });

  it('stops at once when the agent stops', async () => {
    const file = await script('slow', 'sleep 300');
    const stop = new AbortController();
    const run = runCheck(file, { timeoutMs: 60_000, env, signal: stop.signal });
    setTimeout(() => stop.abort(), 100);
    expect(await run).toMatchObject({ ok: false, reason: 'stopped' });
  });
});
