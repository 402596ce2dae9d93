import { join } from 'node:path';
import { installCredentials } from '../condor/credentials.ts';
import { hideSecretSources, secretSources } from '../condor/hide-secrets.ts';
import type { CondorLayout } from '../condor/layout.ts';
import { prepareCondorDirs } from '../condor/prepare.ts';
import { ensureSlotAccounts, slotUidBase, type SlotAccount } from '../condor/slot-users.ts';
import { agentPaths, type AgentConfig } from '../config/options.ts';
import { AgentError } from '../errors.ts';
import { installJobFirewall, type JobFirewall } from '../isolation/job-firewall.ts';
import { planIsolation, type IsolationPlan } from '../isolation/plan.ts';
import type { Logger } from '../log/logger.ts';
import { readImageMetadata } from '../metadata/image.ts';
import { machineName } from '../metadata/machine-name.ts';
import type { Traceability } from '../metadata/traceability.ts';
import type { SlotResources } from '../resources/resources.ts';
import { slotResources } from '../resources/slot-resources.ts';
import { persistentId } from '../util/persistent-id.ts';

/** What the worker decided and installed before any part of it runs. */
export interface Prepared {
  plan: IsolationPlan;
  resources: SlotResources;
  /** The machine's name in the pool (NETWORK_HOSTNAME). */
  name: string;
  slotAccounts: SlotAccount[];
  /** Undefined when it could not be installed (no iptables or no CAP_NET_ADMIN): said in a warning. */
  firewall: JobFirewall | undefined;
}

/**
 * The first steps of a worker's life, on the cold-start path, independent ones side by side: the root check,
 * HTCondor's directories, the pool credentials (their mounted originals hidden from jobs), the isolation plan, the
 * slot's size, the slot accounts, the machine name and, last, the job firewall.
 */
export async function prepareWorker(
  config: AgentConfig,
  layout: CondorLayout,
  trace: Traceability,
  log: Logger,
  instanceId: string,
): Promise<Prepared> {
  log.info(
    {
      event: 'agent-starting',
      imageMetadata: await readImageMetadata(),
      scheduler: trace.scheduler,
      host: trace.host,
      hostname: trace.hostname,
      condorHost: config.condorHost,
      stateDir: config.stateDir,
      instanceId,
      processUptimeMs: Math.round(process.uptime() * 1000),
    },
    'wn-agent starting',
  );
  // As any other user, HTCondor would run every job as that same user: the jobs could read the pool's credentials,
  // and the slot accounts, the covered mounts and the job cgroups could not be made.
  const uid = process.getuid?.();
  if (uid !== undefined && uid !== 0)
    throw new AgentError(
      'WN_ERR_CONFIG',
      `wn-agent run must run as root (uid 0), not uid ${uid}: as any other user HTCondor runs every job as that user, ` +
        'which can read the pool credentials. Run the container as root (unprivileged jobs get their own accounts)',
    );
  await prepareCondorDirs(layout);
  const [credentials, plan, resources] = await Promise.all([
    installCredentials(config, layout),
    planIsolation(config.jobIsolation),
    slotResources(config, trace),
  ]);
  // Before condor_master starts: every daemon, starter and job inherits this mount namespace without the originals.
  const hidden = await hideSecretSources(secretSources(config), {
    emptyFile: join(agentPaths.runtimeDir, 'empty'),
    keep: [
      config.siteConfigDir,
      config.stateDir,
      config.cvmfs.mountRoot,
      config.cvmfs.cacheBase,
      ...(config.healthCheck.dir ? [config.healthCheck.dir] : []),
    ],
  });
  log.info(
    { event: 'credentials-installed', poolPassword: credentials.poolPassword, tokens: credentials.tokens, hiddenFromJobs: hidden },
    'pool credentials installed; the mounted originals are hidden from jobs',
  );
  if (plan.problems.length > 0)
    log.warn(
      {
        event: 'isolation-degraded',
        mode: config.jobIsolation,
        cgroups: plan.cgroups,
        namespaces: plan.namespaces,
        problems: plan.problems,
      },
      'job isolation is incomplete',
    );
  log.info({ event: 'resources-decided', ...resources }, `slot: ${resources.cpus} CPUs, ${resources.memoryMiB} MiB`);
  const slotAccounts = await ensureSlotAccounts(Math.max(1, Math.ceil(resources.cpus)));
  log.info(
    { event: 'slot-users-ready', accounts: slotAccounts.accounts.length, created: slotAccounts.created },
    `jobs of slot1_N run as ${slotAccounts.accounts[0]?.name.replace(/1$/, 'N')}`,
  );
  const name = machineName(trace.hostname, {
    containerId: trace.containerId,
    taskId: trace.taskId,
    fallbackId: await persistentId(join(config.stateDir, 'agent-id')),
  });
  // Before HTCondor starts: no job ever runs without it. Last, so that nothing after it can fail and leave it behind.
  const uids = { first: slotUidBase + 1, last: slotUidBase + slotAccounts.accounts.length };
  const firewall = await installJobFirewall({ adminPort: config.adminListen?.port, uids }).then(
    (installed) => {
      log.info({ event: 'job-firewall', refused: installed.rules, uids }, 'jobs cannot reach the admin port or the metadata address');
      return installed;
    },
    (error: unknown) => {
      log.warn(
        { event: 'job-firewall-off', error: (error as Error).message },
        'jobs can reach the admin port and the metadata address (no iptables or no CAP_NET_ADMIN)',
      );
      return undefined;
    },
  );
  return { plan, resources, name, slotAccounts: slotAccounts.accounts, firewall };
}
