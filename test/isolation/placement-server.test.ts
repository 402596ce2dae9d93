import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { answerLine, PlacementServer, type PlacementRequest } from '../../agent/isolation/placement-server.ts';
import { repoRoot } from '../support/exec.ts';

const sh = promisify(execFile);

// The real image/libexec/starter-wrapper, its fixed paths pointed at a temporary directory, and /bin/echo in place
// of condor_starter: a placed wrapper becomes "the starter" and prints its arguments; a refused one exits 1.
// Written once per directory: concurrent askers must not exec a file another one is rewriting.
const wrappers = new Map<string, Promise<string>>();
function wrapper(dir: string): Promise<string> {
  let path = wrappers.get(dir);
  if (!path) {
    path = (async () => {
      const text = await readFile(join(repoRoot, 'image/libexec/starter-wrapper'), 'utf8');
      const file = join(dir, '..', 'starter-wrapper');
      await writeFile(file, text.replaceAll('/run/wn-agent/placement', dir).replace('/usr/sbin/condor_starter', '/bin/echo'), {
        mode: 0o755,
      });
      return file;
    })();
    wrappers.set(dir, path);
  }
  return path;
}

async function ask(dir: string, slot: string): Promise<string> {
  try {
    const { stdout } = await sh(await wrapper(dir), ['-f', '-a', slot]);
    return stdout.trim() === `-f -a ${slot}` ? 'ok' : `unexpected: ${stdout}`;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    return /\((.*)\); not starting the job/.exec(stderr)?.[1] ?? `unexpected: ${stderr}`;
  }
}

let server: PlacementServer | undefined;
afterEach(async () => {
  await server?.stop();
});

describe('PlacementServer with the real starter wrapper (real FIFOs)', () => {
  it('answers ok or deny, for concurrent requests, and passes pid and slot on', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'wn-place-')), 'placement');
    const seen: PlacementRequest[] = [];
    server = new PlacementServer(
      dir,
      async (request) => {
        seen.push(request);
        return request.slot === 'slot1_2' ? { ok: false, reason: 'no room\nat all' } : { ok: true };
      },
      () => {},
      5,
    );
    await server.start();
    const answers = await Promise.all([ask(dir, 'slot1_1'), ask(dir, 'slot1_2'), ask(dir, 'slot1_3')]);
    expect(answers).toEqual(['ok', 'deny no room at all', 'ok']);
    expect(seen.map((r) => r.slot).sort()).toEqual(['slot1_1', 'slot1_2', 'slot1_3']);
    expect(seen.every((r) => Number.isInteger(r.pid) && r.pid > 1)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['requests', 'timeout']); // every reply FIFO removed
  });

  it('fails closed when the agent takes the request but does not answer in time, and cleans up', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'wn-place-')), 'placement');
    server = new PlacementServer(
      dir,
      () => new Promise(() => {}),
      () => {},
      1,
    );
    await server.start();
    expect(await ask(dir, 'slot1_1')).toBe('no answer from the agent within 1s');
    expect((await readdir(dir)).sort()).toEqual(['requests', 'timeout']);
  });

  it('fails closed when no agent listens, without leaving a file where the FIFO belongs', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'wn-place-')), 'placement');
    await mkdir(dir);
    expect(await ask(dir, 'slot1_1')).toBe('no answer from the agent within 10s');
    expect(await readdir(dir)).toEqual([]);
  });

  it('ignores malformed requests and reports them', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'wn-place-')), 'placement');
    const problems: string[] = [];
    server = new PlacementServer(
      dir,
      async () => ({ ok: true }),
      (message) => problems.push(message),
      5,
    );
    await server.start();
    await sh('sh', ['-c', 'printf "rm -rf / now\\n" > "$1/requests"', 'sh', dir]);
    expect(await ask(dir, 'slot1_1')).toBe('ok');
    expect(problems).toContain('malformed placement request');
  });
});

describe('PlacementServer with a nested HTCondor cgroup (real wrapper, real FIFOs)', () => {
  it("exports the answer's cgroup as _CONDOR_BASE_CGROUP to that starter alone", async () => {
    const base = await mkdtemp(join(tmpdir(), 'wn-place-'));
    const dir = join(base, 'placement');
    // A stand-in condor_starter that prints what HTCondor would read.
    const starter = join(base, 'starter');
    await writeFile(starter, '#!/bin/sh\necho "base=${_CONDOR_BASE_CGROUP-unset} args=$*"\n', { mode: 0o755 });
    const text = await readFile(join(repoRoot, 'image/libexec/starter-wrapper'), 'utf8');
    const file = join(base, 'starter-wrapper');
    await writeFile(file, text.replaceAll('/run/wn-agent/placement', dir).replace('/usr/sbin/condor_starter', starter), { mode: 0o755 });
    server = new PlacementServer(
      dir,
      async ({ slot }) => (slot === 'slot1_1' ? { ok: true, condorCgroup: `jobs/${slot}` } : { ok: true }),
      () => {},
      5,
    );
    await server.start();
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    const nested = await sh(file, ['-f', '-a', 'slot1_1'], { env });
    expect(nested.stdout.trim()).toBe('base=jobs/slot1_1 args=-f -a slot1_1');
    const plain = await sh(file, ['-f', '-a', 'slot1_2'], { env });
    expect(plain.stdout.trim()).toBe('base=unset args=-f -a slot1_2');
  });
});

describe('answerLine (what the starter wrapper reads)', () => {
  it('"ok" alone when HTCondor keeps no cgroup of its own, "ok <BASE_CGROUP>" when it nests one', () => {
    expect(answerLine({ ok: true })).toBe('ok\n');
    expect(answerLine({ ok: true, condorCgroup: 'jobs/slot1_1' })).toBe('ok jobs/slot1_1\n');
    expect(answerLine({ ok: true, condorCgroup: 'wntest/wn-1.a@b/jobs/slot1_12' })).toBe('ok wntest/wn-1.a@b/jobs/slot1_12\n');
  });

  it('refuses (fail closed) a cgroup path the wrapper could not export safely', () => {
    const unsafe = [
      '../jobs/slot1_1',
      'jobs/../../etc',
      'jobs/..',
      './jobs/slot1_1',
      'jobs/./slot1_1',
      'jobs/slot 1',
      '/sys/fs/cgroup/memory/jobs/slot1_1',
      'jobs/slot1_1/',
      'jobs//slot1_1',
      '',
      'jobs/slot1_1\nok',
      'jobs/slot1_1\n',
      'jobs/$(reboot)',
      'jobs/`id`',
      'jobs/slot1_1;rm -rf /',
      'jobs/*',
      'jobs/slot1_1\tx',
    ];
    for (const condorCgroup of unsafe) {
      const line = answerLine({ ok: true, condorCgroup });
      expect(line, JSON.stringify(condorCgroup)).toBe('deny the cgroup path for HTCondor is not a plain relative path\n');
    }
  });

  it('folds a refusal onto one line and caps its reason at 300 characters', () => {
    expect(answerLine({ ok: false, reason: 'no room\n\tat  all' })).toBe('deny no room at all\n');
    const line = answerLine({ ok: false, reason: `${'x'.repeat(299)}\n${'y'.repeat(500)}` });
    expect(line).toBe(`deny ${'x'.repeat(299)} \n`);
    expect(line.split('\n')).toEqual([line.slice(0, -1), '']); // one line, whatever the reason held
    expect(answerLine({ ok: false, reason: 'z'.repeat(1000) })).toHaveLength('deny '.length + 300 + 1);
  });
});
