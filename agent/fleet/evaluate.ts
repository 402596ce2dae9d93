import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { condorPaths } from '../contract/worker-contract.ts';
import { runBounded } from '../util/run.ts';

/**
 * Limits on evaluating one job's Requirements. The job ad and its Requirements are the job owner's text: any pool
 * user can write an expression that runs for minutes or allocates gigabytes in classad_eval, so it runs under
 * prlimit (address space and CPU time, enforced by the kernel) as well as a wall-clock deadline.
 */
export interface EvaluationLimits {
  timeoutMs: number;
  memoryBytes: number;
  cpuSeconds: number;
  /** The job ad as condor_q prints it, at most. */
  maxAdBytes: number;
}

export const defaultEvaluationLimits: EvaluationLimits = {
  timeoutMs: 5000,
  memoryBytes: 512 << 20,
  cpuSeconds: 3,
  maxAdBytes: 1 << 20,
};

/**
 * `retry`: the schedd did not answer for the job ad (busy, restarting): nothing is known about the job, so nothing
 * is remembered; `failed`: the job's own Requirements broke a limit, remembered as not matching.
 */
export type Evaluation = { verdict: boolean } | { gone: true } | { retry: string } | { failed: string };

/**
 * One job's Requirements against the machine ad in dir/machine.ad, with HTCondor's own classad_eval. `gone` when the
 * job left the queue meanwhile; `failed` (with why) when reading or evaluating it broke a limit or an exit.
 */
export async function evaluateJob(
  globalJobId: string,
  dir: string,
  configFile: string,
  limits: EvaluationLimits = defaultEvaluationLimits,
  bin: string = condorPaths.bin,
): Promise<Evaluation> {
  const env = { ...process.env, CONDOR_CONFIG: configFile };
  const schedd = globalJobId.split('#')[0] ?? '';
  const ad = await runBounded(
    join(bin, 'condor_q'),
    ['-name', schedd, '-allusers', '-constraint', `GlobalJobId == "${globalJobId}"`, '-long:new'],
    { timeoutMs: limits.timeoutMs, env, maxBuffer: limits.maxAdBytes },
  );
  if (!ad.ok) return { retry: `condor_q for the job ad: ${ad.why}` };
  if (!ad.stdout.includes('[')) return { gone: true };
  await writeFile(join(dir, 'job.ad'), ad.stdout);
  const result = await runBounded(
    '/usr/bin/prlimit',
    [
      `--as=${limits.memoryBytes}`,
      `--cpu=${limits.cpuSeconds}`,
      '--',
      join(bin, 'classad_eval'),
      '-quiet',
      '-file',
      join(dir, 'job.ad'),
      '-target-file',
      join(dir, 'machine.ad'),
      'Requirements',
    ],
    { timeoutMs: limits.timeoutMs, env, maxBuffer: 64 << 10 },
  );
  if (!result.ok) return { failed: `classad_eval: ${result.why.slice(0, 200)}` }; // stderr may echo the job's text
  return { verdict: result.stdout.trim() === 'true' };
}
