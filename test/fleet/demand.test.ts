import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkerSpec } from '../../agent/fleet/spec.ts';
import { byOwnerInTurn, Demand, demandConstraint, type DemandOptions } from '../../agent/fleet/demand.ts';

// The demand reading against stand-in condor_q and classad_eval programs (test/fixtures/condor-tools): HTCondor's
// tools are in the image, not on the host; the fleet end-to-end test runs the real ones against the real pool.
const bin = fileURLToPath(new URL('../fixtures/condor-tools', import.meta.url));
const spec: WorkerSpec = { image: 'wn-agent:test', env: {}, mounts: [], cpus: 1, memoryMiB: 2048, args: [] };
// The stand-in classad_eval answers by a word in the job ad: Requirements that read only the machine carry it.
const req = (word: string): string => `(TARGET.Note == "${word}")`;
const row = (id: string, owner: string, requirements: string, ...extra: string[]): string =>
  [`"${id}"`, `"${owner}"`, requirements, '1', '64', '1000', '"wn.test"', 'undefined', ...extra].join('\t');

let dir = '';
const logged: Record<string, unknown>[] = [];
const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wn-demand-'));
  await mkdir(join(dir, 'ads'));
  process.env.FIXTURE_DIR = dir;
  logged.length = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const queue = (...rows: string[]): Promise<void> => writeFile(join(dir, 'queue'), rows.join('\n') + '\n');
const ad = (id: string, word: string): Promise<void> => writeFile(join(dir, 'ads', id), `[ Requirements = ${req(word)} ]\n`);
const evaluations = async (): Promise<string[]> =>
  (await readFile(join(dir, 'calls'), 'utf8').catch(() => '')).split('\n').filter((l) => l.startsWith('classad_eval'));
const demand = (options: Partial<DemandOptions> = {}): Demand => new Demand({ bin, log, ...options });
const read = (d: Demand, perOwnerCap?: number): Promise<number> =>
  d.idleJobs({ spec, fleet: 'a', specHash: 'abcdef123456', configFile: '/dev/null', perOwnerCap });

describe('fleet demand', () => {
  it('asks only for idle jobs that fit one worker, and the site constraint', () => {
    expect(demandConstraint({ cpus: 8, memoryMiB: 16384 })).toBe('JobStatus == 1 && RequestCpus <= 8 && RequestMemory <= 16384');
    expect(demandConstraint({ cpus: 1, memoryMiB: 2048, constraint: 'Owner == "atlas"' })).toBe(
      'JobStatus == 1 && RequestCpus <= 1 && RequestMemory <= 2048 && (Owner == "atlas")',
    );
  });

  it('evaluates one job per group, counts the group, and does not evaluate it again next cycle', async () => {
    await queue(row('cm#1.0#1', 'alice', req('matches')), row('cm#1.1#1', 'alice', req('matches')), row('cm#2.0#1', 'bob', req('other')));
    await ad('cm#1.0#1', 'matches');
    await ad('cm#2.0#1', 'other');
    const d = demand();
    expect(await read(d)).toBe(2);
    expect(await read(d)).toBe(2);
    expect(await evaluations()).toHaveLength(2);
  });

  it('a job whose evaluation spins, hogs memory or hangs is contained: the others still count, it is said once and not tried again', async () => {
    await queue(
      row('cm#1.0#1', 'alice', req('matches')),
      row('cm#2.0#1', 'mallory', req('spin')),
      row('cm#3.0#1', 'mallory', req('hog')),
      row('cm#4.0#1', 'mallory', req('sleep')),
    );
    for (const [id, text] of [
      ['cm#1.0#1', 'matches'],
      ['cm#2.0#1', 'spin'],
      ['cm#3.0#1', 'hog'],
      ['cm#4.0#1', 'sleep'],
    ] as const)
      await ad(id, text);
    const d = demand({ limits: { timeoutMs: 2500, memoryBytes: 256 << 20, cpuSeconds: 1, maxAdBytes: 1 << 20 } });
    expect(await read(d)).toBe(1);
    const failed = logged.filter((e) => e.event === 'fleet-demand-evaluation-failed');
    expect(failed.map((e) => [e.job, e.owner])).toEqual([
      ['cm#2.0#1', 'mallory'],
      ['cm#3.0#1', 'mallory'],
      ['cm#4.0#1', 'mallory'],
    ]);
    // The CPU limit ended the spinner (SIGXCPU at 1 CPU-second), the address-space limit the hog, the deadline the sleeper.
    const why = failed.map((e) => String(e.why));
    expect(why[0]).toMatch(/killed by SIG(XCPU|KILL)/);
    expect(why[1]).toMatch(/cannot allocate/);
    expect(why[2]).toMatch(/timed out after 2500 ms/);
    expect(await read(d)).toBe(1);
    expect(await evaluations()).toHaveLength(4); // remembered: each bad group cost one evaluation, once
    expect(logged.filter((e) => e.event === 'fleet-demand-evaluation-failed')).toHaveLength(3);
  });

  it('streams condor_q: 200 jobs with 100 KB Requirements (20 MB) are skipped line by line and the rest still count', async () => {
    const huge = `(${'x'.repeat(100_000)})`;
    const rows = [row('cm#1.0#1', 'alice', req('matches'))];
    for (let i = 0; i < 200; i++) rows.push(row(`cm#9.${i}#1`, 'mallory', huge));
    await queue(...rows);
    await ad('cm#1.0#1', 'matches');
    const d = demand();
    expect(await read(d)).toBe(1);
    expect(d.last).toMatchObject({ overlong: 200, matching: 1 });
    expect(logged.find((e) => e.event === 'fleet-demand-uncounted')).toMatchObject({ overlong: 200 });
  });

  it("counts at most the owner's cap of one owner's jobs, and every owner's up to it", async () => {
    const rows = [];
    for (let i = 0; i < 50; i++) rows.push(row(`cm#1.${i}#1`, 'mallory', req('matches')));
    rows.push(row('cm#2.0#1', 'alice', req('matches')), row('cm#2.1#1', 'alice', req('matches')));
    await queue(...rows);
    await ad('cm#1.0#1', 'matches');
    await ad('cm#2.0#1', 'matches');
    const d = demand();
    expect(await read(d, 4)).toBe(6);
    expect(d.last).toMatchObject({ capped: 46 });
  });

  it('Requirements that read job attributes: those attributes become columns, and jobs that differ in them are judged apart', async () => {
    const requirements = '(TARGET.Memory >= RequestMemory) && (MY.Wanted == "yes")';
    await queue(row('cm#1.0#1', 'alice', requirements), row('cm#1.1#1', 'alice', requirements));
    const d = demand();
    expect(await read(d)).toBe(0); // not counted before the attribute it reads is asked for
    expect(d.last).toMatchObject({ unkeyed: 2 });
    expect(await evaluations()).toHaveLength(0);
    expect(await readFile(join(dir, 'columns-asked'), 'utf8')).not.toMatch(/Wanted/);
    await queue(row('cm#1.0#1', 'alice', requirements, '"yes"'), row('cm#1.1#1', 'alice', requirements, '"no"'));
    await ad('cm#1.0#1', 'matches');
    await ad('cm#1.1#1', 'other');
    expect(await read(d)).toBe(1);
    expect(await readFile(join(dir, 'columns-asked'), 'utf8')).toMatch(/ RequestGPUs Wanted$/m);
    expect(await evaluations()).toHaveLength(2);
  });

  it('stops evaluating when the time budget is near and leaves the rest pending for the next cycle', async () => {
    await queue(
      row('cm#1.0#1', 'alice', req('sleep a')),
      row('cm#2.0#1', 'alice', req('sleep b')),
      row('cm#3.0#1', 'alice', req('sleep c')),
    );
    for (const id of ['cm#1.0#1', 'cm#2.0#1', 'cm#3.0#1']) await ad(id, 'sleep');
    const d = demand({ budgetMs: 3000, limits: { timeoutMs: 1000, memoryBytes: 256 << 20, cpuSeconds: 1, maxAdBytes: 1 << 20 } });
    await read(d);
    expect((await evaluations()).length).toBeLessThan(3);
    expect(d.last?.pending).toBeGreaterThan(0);
  });

  it('a condor_q that fails fails the reading with its reason (the cycle acts on no guess)', async () => {
    await rm(join(dir, 'ads'), { recursive: true });
    await writeFile(join(dir, 'queue'), '');
    const broken = demand({ bin: dir });
    await expect(read(broken)).rejects.toThrow(/condor_q -global \(idle jobs\): /);
  });

  it("evaluates owners' groups in turn, so one user's many groups cannot keep another's first group waiting", () => {
    const g = (owner: string, key: string): { key: string; owner: string; count: number; example: string } => ({
      key,
      owner,
      count: 1,
      example: key,
    });
    const order = byOwnerInTurn([g('m', 'm1'), g('m', 'm2'), g('m', 'm3'), g('a', 'a1'), g('b', 'b1'), g('a', 'a2')]);
    expect(order.map((x) => x.key)).toEqual(['m1', 'a1', 'b1', 'm2', 'a2', 'm3']);
  });

  it('a job ad the schedd does not give (it times out) is asked for again next cycle, not remembered as not matching', async () => {
    await queue(row('cm#1.0#1', 'alice', req('matches')));
    await writeFile(join(dir, 'hang'), ''); // the schedd stalls
    const d = demand({ limits: { timeoutMs: 500, memoryBytes: 256 << 20, cpuSeconds: 1, maxAdBytes: 1 << 20 }, bin: await hangingAdBin() });
    expect(await read(d)).toBe(0);
    expect(d.last?.pending).toBe(1);
    expect(logged.filter((e) => e.event === 'fleet-demand-evaluation-failed')).toEqual([]);
    await rm(join(dir, 'hang')); // and answers again
    await ad('cm#1.0#1', 'matches');
    expect(await read(d)).toBe(1);
  });
});

/** The stand-in tools, with a condor_q that hangs when asked for a job's ad while $FIXTURE_DIR/hang exists. */
async function hangingAdBin(): Promise<string> {
  const hung = join(dir, 'bin');
  await mkdir(hung);
  await writeFile(
    join(hung, 'condor_q'),
    `#!/bin/bash\nif [ "$1" != -global ] && [ -e "$FIXTURE_DIR/hang" ]; then sleep 30; fi\nexec ${bin}/condor_q "$@"\n`,
    {
      mode: 0o755,
    },
  );
  await writeFile(join(hung, 'classad_eval'), `#!/bin/bash\nexec ${bin}/classad_eval "$@"\n`, { mode: 0o755 });
  return hung;
}
