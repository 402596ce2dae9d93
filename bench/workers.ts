import { podman, repoRoot, image, run } from '../test/support/exec.ts';
import type { TestPool } from '../test/support/pool.ts';
import { waitFor } from '../agent/util/wait.ts';

/** Site config for every benchmark worker, agent or plain: millisecond timestamps in StartLog (D_SUB_SECOND). */
export const benchConf = `${repoRoot}bench/bench-debug.conf`;

/**
 * The plain alternative: the same image, `tini -- condor_master -f` as entrypoint, Debian's configuration plus a
 * hand-written execute node file (bench/plain-worker.conf) and any further config files given.
 */
export async function startPlain(pool: TestPool, name: string, confs: string[] = [], podmanArgs: string[] = []): Promise<void> {
  await podman([
    'run',
    '-d',
    '--privileged',
    '--name',
    name,
    '--hostname',
    name,
    '--network',
    pool.network,
    '--label',
    `wn-pool=${pool.name}`,
    '-e',
    'CONDOR_CONFIG=/etc/condor/condor_config',
    '-e',
    `_CONDOR_CONDOR_HOST=${pool.cm}`,
    '-e',
    `_CONDOR_BenchName="${name}"`,
    '-v',
    `${pool.secretDir}/POOL:/etc/condor/passwords.d/POOL:ro`,
    '-v',
    `${repoRoot}bench/plain-worker.conf:/etc/condor/config.d/90-plain.conf:ro`,
    ...confs.flatMap((conf, i) => ['-v', `${conf}:/etc/condor/config.d/9${i + 1}-bench.conf:ro`]),
    ...podmanArgs,
    '--entrypoint',
    '/usr/bin/tini',
    image,
    '--',
    '/usr/sbin/condor_master',
    '-f',
  ]);
}

export const removeContainer = (name: string): Promise<unknown> => run('podman', ['rm', '-f', '-t', '2', name]);

/** Milliseconds from t0 until condor_status on the central manager lists a slot matching the constraint. */
export function advertisedAfter(pool: TestPool, constraint: string, t0: number, timeoutMs = 120_000): Promise<number> {
  return waitFor(async () => ((await pool.status(constraint, ['Name'])).length > 0 ? Date.now() - t0 : undefined), {
    timeoutMs,
    intervalMs: 50,
    what: constraint,
  });
}
