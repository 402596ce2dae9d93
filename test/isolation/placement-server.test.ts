import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { PlacementServer, type PlacementRequest } from '../../agent/isolation/placement-server.ts';
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
