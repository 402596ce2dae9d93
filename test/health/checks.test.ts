import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HealthChecks, type HealthChecksOptions } from '../../agent/health/checks.ts';
import { WorkerHealth } from '../../agent/health/worker-health.ts';
import { waitFor } from '../../agent/util/wait.ts';

// The periodic runner against real check scripts in a temporary directory, its ad fragment read back as the startd
// cron job would (cat), its events as the agent logs them.
let root: string;
let dir: string;
let adFile: string;
let checks: HealthChecks | undefined;
let health: WorkerHealth;

/** As the worker starts them: its health first (the fragment before HTCondor starts), then the site's checks. */
async function startChecks(options: HealthChecksOptions): Promise<HealthChecks> {
  health = new WorkerHealth(adFile, log);
  await health.start();
  checks = new HealthChecks(options, health, log);
  await checks.start();
  return checks;
}

/** The fragment without a disk hold. */
const noHold = 'WnDiskHoldSlot = ""\nWnDiskHoldReason = ""\n';
const events: Record<string, unknown>[] = [];
const log = pino({ level: 'info' }, { write: (line: string) => events.push(JSON.parse(line) as Record<string, unknown>) });
const ofType = (type: string): Record<string, unknown>[] => events.filter((e) => e.event === type);

async function check(name: string, body: string): Promise<void> {
  await writeFile(join(dir, name), `#!/bin/sh\n${body}\n`);
  await chmod(join(dir, name), 0o755);
}

const until = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> =>
  waitFor(probe, { timeoutMs: 5000, intervalMs: 10, what });

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'wn-health-checks-'));
  dir = join(root, 'health.d');
  adFile = join(root, 'run', 'health.ad');
  await mkdir(dir, { mode: 0o755 });
  events.length = 0;
});
afterEach(async () => {
  await checks?.stop();
  checks = undefined;
  await rm(root, { recursive: true, force: true });
});

describe('HealthChecks', () => {
  it('runs a first round at start, with an environment of its own, and publishes the verdict before returning', async () => {
    process.env.WN_ADMIN_TOKEN = 'an-admin-token-of-32-characters!';
    process.env.SITE_DB_PASSWORD = 'hunter2';
    try {
      await check('10-env', `env > ${root}/env.txt`);
      await check('20-pass', 'echo fine');
      checks = await startChecks({ dir, intervalMs: 60_000, timeoutMs: 5000 });
    } finally {
      delete process.env.WN_ADMIN_TOKEN;
      delete process.env.SITE_DB_PASSWORD;
    }
    expect(await readFile(adFile, 'utf8')).toBe(`WnHealthy = true\nWnUnhealthyReasons = ""\n${noHold}`);
    const env = (await readFile(join(root, 'env.txt'), 'utf8')).trim().split('\n');
    expect(env).toContain('HOME=/');
    expect(env.some((line) => line.startsWith('PATH=/'))).toBe(true);
    expect(env.filter((line) => !/^(HOME|PATH|PWD)=/.test(line))).toEqual([]); // PWD: sh sets it itself
    expect(ofType('health-checks-found')).toMatchObject([{ dir, checks: ['10-env', '20-pass'], skipped: [], ignored: [] }]);
    expect(ofType('worker-healthy')).toMatchObject([{ checks: ['10-env', '20-pass'] }]);
    expect(health.status()).toMatchObject({
      healthy: true,
      checks: [
        { name: '10-env', ok: true },
        { name: '20-pass', ok: true },
      ],
    });
  });

  it('turns unhealthy when a check fails and healthy when it passes again, with events on the transitions only', async () => {
    const flag = join(root, 'broken');
    await check('10-software', `if [ -e ${flag} ]; then echo "software area /cvmfs/sw missing"; exit 1; fi`);
    await check('20-runs', `echo run >> ${root}/runs`);
    const runs = async (): Promise<number> => (await readFile(join(root, 'runs'), 'utf8').catch(() => '')).split('\n').length - 1;
    checks = await startChecks({ dir, intervalMs: 20, timeoutMs: 5000 });

    await writeFile(flag, '');
    await until('WnHealthy = false', async () => ((await readFile(adFile, 'utf8')).startsWith('WnHealthy = false') ? true : undefined));
    expect(await readFile(adFile, 'utf8')).toBe(
      `WnHealthy = false\nWnUnhealthyReasons = "10-software: exit 1: software area /cvmfs/sw missing"\n${noHold}`,
    );
    const seen = await runs();
    await until('three more rounds', async () => ((await runs()) >= seen + 3 ? true : undefined));
    expect(ofType('health-check-failed')).toEqual([
      expect.objectContaining({ level: 40, check: '10-software', reason: 'exit 1: software area /cvmfs/sw missing' }),
    ]);
    expect(ofType('worker-unhealthy')).toEqual([
      expect.objectContaining({ reasons: ['10-software: exit 1: software area /cvmfs/sw missing'] }),
    ]);
    expect(health.status().checks[0]).toMatchObject({ name: '10-software', ok: false, reason: 'exit 1: software area /cvmfs/sw missing' });

    await rm(flag);
    await until('worker-healthy again', async () => (ofType('worker-healthy').length === 2 ? true : undefined));
    expect(ofType('health-check-recovered')).toEqual([expect.objectContaining({ check: '10-software' })]);
    expect(await readFile(adFile, 'utf8')).toBe(`WnHealthy = true\nWnUnhealthyReasons = ""\n${noHold}`);
  });

  it('counts a directory that cannot be listed as a failing check until it can be again', async () => {
    await check('10-pass', 'exit 0');
    checks = await startChecks({ dir, intervalMs: 20, timeoutMs: 5000 });
    await rename(dir, `${dir}.away`);
    await until('worker-unhealthy', async () => (ofType('worker-unhealthy').length === 1 ? true : undefined));
    expect(ofType('health-check-failed')).toEqual([expect.objectContaining({ check: dir, reason: 'cannot list: ENOENT' })]);
    expect(await readFile(adFile, 'utf8')).toContain(`WnUnhealthyReasons = "${dir}: cannot list: ENOENT"`);
    await rename(`${dir}.away`, dir);
    await until('worker-healthy again', async () => (ofType('worker-healthy').length === 2 ? true : undefined));
    expect(ofType('health-check-recovered')).toEqual([expect.objectContaining({ check: dir })]);
    expect(health.status().checks.map((c) => c.name)).toEqual(['10-pass']);
  });

  it('never runs two rounds at once, and stops a check under way when the agent stops', async () => {
    await check('10-slow', `echo start >> ${root}/trace; sleep 0.1; echo end >> ${root}/trace`);
    checks = await startChecks({ dir, intervalMs: 1, timeoutMs: 5000 });
    await until('four rounds', async () => ((await readFile(join(root, 'trace'), 'utf8')).split('end').length > 4 ? true : undefined));
    await check('20-hang', `touch ${root}/hung; sleep 300`);
    await until(
      'the hung check running',
      async () =>
        await readFile(join(root, 'hung'))
          .then(() => true)
          .catch(() => undefined),
    );
    const started = Date.now();
    await checks.stop();
    expect(Date.now() - started).toBeLessThan(2000);
    const trace = (await readFile(join(root, 'trace'), 'utf8')).trim().split('\n');
    expect(trace.every((line, i) => line === (i % 2 === 0 ? 'start' : 'end'))).toBe(true);
  });
});
