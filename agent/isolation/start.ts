import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { delegate, jobsParent } from '../cgroup/delegate.ts';
import type { CgroupTree } from '../cgroup/tree.ts';
import type { CondorLayout } from '../condor/layout.ts';
import { dynamicSlotResources } from '../condor/startd.ts';
import { agentPaths, type AgentConfig } from '../config/options.ts';
import type { Logger } from '../log/logger.ts';
import { prepareCondorCgroups, type CondorCgroups } from './condor-cgroups.ts';
import { JobCgroups, starterHeadroomBytes } from './job-cgroups.ts';
import { PlacementServer } from './placement-server.ts';
import type { IsolationPlan } from './plan.ts';

export interface RunningIsolation {
  jobs: JobCgroups;
  tree: CgroupTree;
  placement: PlacementServer;
  /** Whether HTCondor's own cgroup code nests each job's cgroup in the agent's. */
  condor: CondorCgroups;
  stop(): Promise<void>;
}

/**
 * Before condor_master starts (so that it and its daemons land in the agent's leaf): delegate the container's cgroup,
 * then listen for the starter wrapper's placement requests.
 */
export async function startIsolation(
  plan: IsolationPlan,
  input: {
    config: AgentConfig;
    layout: CondorLayout;
    machineName: string;
    slot: { cpus: number; memoryMiB: number };
    /** A dynamic slot's size when the agent has read it in StartLog. */
    knownSize?: (slot: string) => Promise<{ cpus: number; memoryMiB: number } | undefined>;
    /** A starter was placed, after this many ms. */
    onPlaced?: (placementMs: number) => void;
  },
  log: Logger,
  onFinished: (oomKilled: boolean, starterPid: number) => void = () => {},
): Promise<RunningIsolation | undefined> {
  if (!plan.cgroups || !plan.tree) return undefined;
  const { config, layout, machineName, slot } = input;
  const delegation = await delegate(plan.tree, slot.memoryMiB * 1048576);
  const condor: CondorCgroups = plan.layout
    ? await prepareCondorCgroups(plan.layout, await readFile('/proc/self/mountinfo', 'utf8'), {
        pidNamespaces: plan.namespaces && config.jobPidNamespaces,
        selfCgroup: await readFile('/proc/self/cgroup', 'utf8'),
      })
    : { nested: false, reason: 'no cgroup layout' };
  log.info(
    {
      event: 'cgroups-delegated',
      cgroupMode: plan.cgroupMode,
      version: plan.tree.version,
      hierarchies: plan.tree.hierarchies,
      moved: delegation.moved,
      removedLeftovers: delegation.removedLeftovers,
      htcondorCgroups: condor.nested ? 'nested' : 'off',
    },
    `cgroup v${plan.tree.version}: agent in ${plan.tree.hierarchies[0] ?? '?'}/agent, jobs under jobs/`,
  );
  const jobs = new JobCgroups({
    tree: plan.tree,
    resourcesOf: (slotName) => dynamicSlotResources(layout.configFile, layout.log, machineName, slotName),
    fallback: slot,
    options: {
      pidsMax: config.jobPidsMax,
      cpuHardLimit: config.jobCpuHardLimit,
      executeDir: layout.execute,
      pollMs: 250,
      pidNamespaces: plan.namespaces && config.jobPidNamespaces,
    },
    log,
    onFinished,
    knownSize: input.knownSize,
    onPlaced: input.onPlaced,
    condor,
  });
  // Each slot's cgroup holds its starter beside HTCondor's job cgroup: the jobs subtree takes the starters' headroom too,
  // so that starters (and ssh_to_job sessions) of full slots cannot push the whole subtree over and kill a neighbour.
  if (condor.nested)
    await plan.tree.write(
      'memory',
      jobsParent,
      plan.tree.version === 1 ? 'memory.limit_in_bytes' : 'memory.max',
      String(slot.memoryMiB * 1048576 + Math.ceil(Math.max(1, slot.cpus)) * starterHeadroomBytes),
    );
  if (!condor.nested)
    log.warn(
      { event: 'htcondor-cgroups-off', reason: condor.reason },
      `HTCondor's own job cgroups are off (${condor.reason}): a job over its memory is killed by the agent's cgroup, not held`,
    );
  const placement = new PlacementServer(
    join(agentPaths.runtimeDir, 'placement'),
    (request) => jobs.place(request),
    (message, details) => log.warn({ event: 'placement-problem', ...details }, message),
    Math.ceil(config.placementTimeoutMs / 1000),
  );
  await placement.start();
  jobs.start();
  return {
    jobs,
    tree: plan.tree,
    placement,
    condor,
    stop: async () => {
      await jobs.stop();
      await placement.stop();
    },
  };
}
