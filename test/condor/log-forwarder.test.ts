import { appendFile, mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogForwarder, maxForwardedLineChars, type ForwardedLine } from '../../agent/condor/log-forwarder.ts';
import { waitFor } from '../../agent/util/wait.ts';

let dir: string;
let seen: ForwardedLine[];
let forwarder: LogForwarder;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wn-logs-'));
  seen = [];
});
afterEach(async () => {
  await forwarder.stop();
});

const lines = (): string[] => seen.map((entry) => `${entry.daemon}${entry.slot ? `/${entry.slot}` : ''}: ${entry.line}`);
const until = (count: number): Promise<true> =>
  waitFor(async () => (seen.length >= count ? true : undefined), { timeoutMs: 5000, intervalMs: 10, what: `${count} lines` });

describe('LogForwarder', () => {
  it('forwards lines written after start, from files that appear later too, and not what was there before', async () => {
    await writeFile(join(dir, 'MasterLog'), 'old line from an earlier run\n');
    forwarder = new LogForwarder(dir, (line) => seen.push(line), 10);
    await forwarder.start();
    await appendFile(join(dir, 'MasterLog'), 'new master line\n');
    await writeFile(join(dir, 'StarterLog.slot1_1'), 'starter line\n');
    await writeFile(join(dir, 'MasterLog.old'), 'rotated copy\n');
    await until(2);
    expect(lines().sort()).toEqual(['master: new master line', 'starter/slot1_1: starter line']);
  });

  it('reads a new line when inotify reports it, without waiting for the slow poll', async () => {
    forwarder = new LogForwarder(dir, (line) => seen.push(line), 60_000); // the poll alone would take a minute
    await forwarder.start();
    await writeFile(join(dir, 'StartLog'), 'first\n');
    await until(1);
    await appendFile(join(dir, 'StartLog'), 'second\n');
    await until(2);
    expect(lines()).toEqual(['startd: first', 'startd: second']);
  });

  it('flush(file) has read that file to its end when it settles; reads racing each other forward every line once', async () => {
    forwarder = new LogForwarder(dir, (line) => seen.push(line), 60_000);
    await forwarder.start();
    for (let i = 0; i < 20; i++) {
      await appendFile(join(dir, 'StartLog'), `claim ${i}\n`);
      await appendFile(join(dir, 'StarterLog.slot1_1'), `starter ${i}\n`);
      // inotify's own read may be under way as well
      await Promise.all([forwarder.flush('StartLog'), forwarder.flush(), forwarder.flush('StartLog')]);
      expect(lines()).toContain(`startd: claim ${i}`);
    }
    await forwarder.flush();
    const all = lines();
    expect(all.filter((l) => l.startsWith('startd: '))).toEqual(Array.from({ length: 20 }, (_, i) => `startd: claim ${i}`));
    expect(all.filter((l) => l.startsWith('starter/'))).toEqual(Array.from({ length: 20 }, (_, i) => `starter/slot1_1: starter ${i}`));
  });

  it('reads a log that grew by megabytes a MiB at a time, the event loop free in between, and forwards every line once', async () => {
    forwarder = new LogForwarder(dir, (line) => seen.push(line), 60_000);
    await forwarder.start();
    const count = 40_000; // about 3.5 MiB
    await writeFile(join(dir, 'StarterLog.slot1_1'), Array.from({ length: count }, (_, i) => `line ${i} ${'x'.repeat(80)}\n`).join(''));
    let turns = 0;
    const counting = setInterval(() => (turns += 1), 0);
    await forwarder.flush('StarterLog.slot1_1');
    clearInterval(counting);
    expect(seen).toHaveLength(count);
    expect(seen.at(-1)?.line).toBe(`line ${count - 1} ${'x'.repeat(80)}`);
    expect(turns).toBeGreaterThan(0); // timers ran while the file was read
  });

  it('holds back a partial line until its newline arrives, and keeps a split UTF-8 character whole', async () => {
    forwarder = new LogForwarder(dir, (line) => seen.push(line), 10);
    await forwarder.start();
    const text = Buffer.from('Zürich\n');
    await writeFile(join(dir, 'StartLog'), text.subarray(0, 2)); // ends inside the two-byte ü
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toEqual([]);
    await appendFile(join(dir, 'StartLog'), text.subarray(2));
    await until(1);
    expect(lines()).toEqual(['startd: Zürich']);
  });

  it('starts again from the top of a rotated or truncated file', async () => {
    forwarder = new LogForwarder(dir, (line) => seen.push(line), 10);
    await forwarder.start();
    await writeFile(join(dir, 'StartLog'), 'one\ntwo\n');
    await until(2);
    await rename(join(dir, 'StartLog'), join(dir, 'StartLog.old'));
    await writeFile(join(dir, 'StartLog'), 'three\n');
    await until(3);
    await writeFile(join(dir, 'StartLog'), 'x\n'); // truncated in place
    await until(4);
    expect(lines()).toEqual(['startd: one', 'startd: two', 'startd: three', 'startd: x']);
  });

  it('on stop, delivers what is left, including a last line without newline', async () => {
    forwarder = new LogForwarder(dir, (line) => seen.push(line), 60_000);
    await forwarder.start();
    await writeFile(join(dir, 'MasterLog'), '**** condor_master EXITING WITH STATUS 0\nno newline');
    await forwarder.stop();
    expect(lines()).toEqual(['master: **** condor_master EXITING WITH STATUS 0', 'master: no newline']);
  });

  it('cuts a line a job made long (its arguments in the starter log) and forwards the next line whole', async () => {
    forwarder = new LogForwarder(dir, (line) => seen.push(line), 10);
    await forwarder.start();
    await writeFile(join(dir, 'StarterLog.slot1_1'), `About to exec /bin/sh ${'x'.repeat(3 << 20)}\nnext line\n`);
    await until(2);
    const [long, next] = seen.map((entry) => entry.line);
    expect(long?.length).toBeLessThan(maxForwardedLineChars + 64);
    const prefix = 'About to exec /bin/sh ';
    expect(long).toBe(
      `${`${prefix}${'x'.repeat(3 << 20)}`.slice(0, maxForwardedLineChars)} …[${prefix.length + (3 << 20) - maxForwardedLineChars} characters cut]`,
    );
    expect(next).toBe('next line');
  });
});
