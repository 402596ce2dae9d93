import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MasterProcess, stopStages } from '../../agent/condor/master.ts';
import { waitFor } from '../../agent/util/wait.ts';

const fixture = fileURLToPath(new URL('../fixtures/fake-master.mjs', import.meta.url));

function start(mode: string): { master: MasterProcess; lines: string[] } {
  const lines: string[] = [];
  const master = new MasterProcess('/nonexistent/condor_config', (line, stream) => lines.push(`${stream}: ${line}`), [
    process.execPath,
    fixture,
    mode,
  ]);
  return { master, lines };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('MasterProcess (with a fixture program standing in for condor_master)', () => {
  const saved = { ...stopStages };
  afterEach(() => Object.assign(stopStages, saved));

  it('relays stdout and stderr lines and reports running', async () => {
    const { master, lines } = start('polite');
    await waitFor(async () => (lines.length >= 2 ? true : undefined), { timeoutMs: 5000, intervalMs: 20, what: 'output' });
    expect(master.state).toBe('running');
    expect(lines).toContain(`stdout: fake master polite pid ${master.pid}`);
    expect(lines).toContain('stderr: a line on stderr');
    await master.stop(5000);
  });

  it('stops gracefully with SIGTERM when that is enough', async () => {
    const { master, lines } = start('polite');
    await waitFor(async () => (lines.some((line) => line.startsWith('stdout: fake master')) ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 20,
      what: 'output',
    });
    const exit = await master.stop(5000);
    expect(exit).toEqual({ code: 0, signal: null, expected: true, stoppedBy: 'graceful' });
    expect(master.state).toBe('exited');
  });

  it('escalates to fast shutdown (SIGQUIT) after the graceful period', async () => {
    const { master, lines } = start('stubborn');
    await waitFor(async () => (lines.some((line) => line.startsWith('stdout: fake master')) ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 20,
      what: 'output',
    });
    const exit = await master.stop(300);
    expect(exit).toMatchObject({ code: 0, expected: true, stoppedBy: 'fast' });
  });

  it('finally kills the whole process group, daemons included, and records that force was used', async () => {
    stopStages.fastShutdownMs = 300;
    const { master, lines } = start('immortal');
    const daemon = await waitFor(async () => lines.map((line) => /daemon pid (\d+)/.exec(line)?.[1]).find(Boolean), {
      timeoutMs: 5000,
      intervalMs: 20,
      what: 'daemon pid',
    });
    const exit = await master.stop(300);
    expect(exit).toMatchObject({ signal: 'SIGKILL', expected: true, stoppedBy: 'kill' });
    await waitFor(async () => (alive(Number(daemon)) ? undefined : true), { timeoutMs: 5000, intervalMs: 50, what: 'daemon gone' });
  });

  it('reports an exit nobody asked for as unexpected', async () => {
    const { master } = start('crash');
    expect(await master.exited).toEqual({ code: 7, signal: null, expected: false });
  });

  it('rejects with WN_ERR_CONDOR_MASTER when the program cannot be started', async () => {
    const master = new MasterProcess('/x', () => {}, ['/nonexistent/condor_master']);
    await expect(master.exited).rejects.toMatchObject({ code: 'WN_ERR_CONDOR_MASTER' });
  });
});
