import { agentPaths } from '../../config/options.ts';
import type { RunningIsolation } from '../../isolation/start.ts';
import { jobAttributes } from '../../metadata/traceability.ts';
import type { Prepared } from '../prepare.ts';
import type { JobStartPart } from '../worker-parts.ts';
import type { WorkerRun } from '../worker-run.ts';

/** Phase 1's result: what was decided and started before HTCondor. */
export interface Configured extends Prepared {
  isolation: RunningIsolation | undefined;
  /** The job-start server, made (not started) when the image has the job wrapper. */
  jobStarts: JobStartPart | undefined;
  jobWrapper: string | undefined;
}

/**
 * Phase 1, on the cold-start path: everything before HTCondor. Preparation (credentials, plan, slot size, accounts,
 * firewall), job isolation, CVMFS mounted (the first slot ad already says which repositories work), health (a worker
 * failing its checks never opens START).
 */
export async function configure(run: WorkerRun): Promise<Configured> {
  const { config, log, parts, closers, links, status } = run;
  closers.add('cvmfs', () => parts.cvmfs.stop()); // stopped last: no job reads /cvmfs any more
  const prepared = await parts.prepare();
  const { firewall } = prepared;
  if (firewall) closers.add('job firewall', () => firewall.remove());
  const jobWrapper = await parts.jobWrapper();
  if (!jobWrapper)
    log.warn(
      { event: 'job-attributes-disabled', wrapper: agentPaths.jobWrapper },
      'job wrapper not installed: job ads will not carry the container attributes',
    );
  const jobStarts = jobWrapper
    ? parts.jobStarts({
        attributes: jobAttributes(run.trace),
        log,
        counters: status.counters,
        steps: run.steps,
        idle: run.idle,
        isolation: () => links.isolation,
      })
    : undefined;
  const isolation = await parts.isolation(
    prepared.plan,
    {
      config,
      layout: run.layout,
      machineName: prepared.name,
      slot: prepared.resources,
      knownSize: async (slot) => {
        await links.forwarder?.flush('StartLog'); // StartLog to its end: the claim's "New dSlot" lines came before this activation
        return run.slotSizes.get(slot);
      },
      onPlaced: (ms) => {
        run.steps.observe('placement', ms);
        // The startd makes EXECUTE 0755 again whenever it starts (the master restarts a crashed one on its own).
        void parts.closeExecuteDir();
      },
    },
    log,
    (oomKilled, starterPid) => {
      links.jobStarts?.forget(starterPid);
      status.counters.jobsFinished += 1;
      if (oomKilled) status.counters.oomKills += 1;
    },
  );
  if (isolation) closers.add('isolation', () => isolation.stop());
  links.isolation = isolation;
  await parts.cvmfs.start();
  closers.add('health', () => parts.health.stop());
  await parts.health.start({ executeDir: run.layout.execute, machineName: prepared.name, running: () => isolation?.jobs.running ?? [] });
  return { ...prepared, isolation, jobStarts, jobWrapper };
}
