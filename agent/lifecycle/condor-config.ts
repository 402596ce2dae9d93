import type { CondorLayout } from '../condor/layout.ts';
import { listSiteConfig } from '../condor/prepare.ts';
import { renderCondorConfig } from '../condor/render-config.ts';
import type { SlotAccount } from '../condor/slot-users.ts';
import { agentPaths, type AgentConfig } from '../config/options.ts';
import type { IsolationPlan } from '../isolation/plan.ts';
import type { Logger } from '../log/logger.ts';
import type { SlotResources } from '../resources/resources.ts';
import { hasGpuDevices } from '../resources/gpus.ts';
import { writeFileAtomic } from '../util/files.ts';
import { jobsEndBy } from './lifetime.ts';

/** HTCondor's whole configuration for this worker, written where condor_master reads it, and said in an event. */
export async function writeCondorConfig(inputs: {
  config: AgentConfig;
  layout: CondorLayout;
  log: Logger;
  instanceId: string;
  name: string;
  resources: SlotResources;
  attributes: Record<string, string>;
  jobAttrs: Record<string, string>;
  jobWrapper: string | undefined;
  plan: IsolationPlan;
  slotAccounts: SlotAccount[];
  /** The agent's starter wrapper places every starter: only with job isolation. */
  isolated: boolean;
  condorCgroups: boolean;
  cvmfsAdFile: string | undefined;
  healthAdFile: string;
}): Promise<void> {
  const { config, layout, log, name, attributes, jobWrapper } = inputs;
  const siteConfigFiles = await listSiteConfig(config.siteConfigDir);
  await writeFileAtomic(
    layout.configFile,
    renderCondorConfig({
      config,
      layout,
      instanceId: inputs.instanceId,
      siteConfigFiles,
      resources: inputs.resources,
      attributes,
      machineName: name,
      jobWrapper,
      starterWrapper: inputs.isolated ? agentPaths.starterWrapper : undefined,
      namespaces: inputs.plan.namespaces,
      cvmfsAdFile: inputs.cvmfsAdFile,
      healthAdFile: inputs.healthAdFile,
      gpus: await hasGpuDevices(),
      slotAccounts: inputs.slotAccounts,
      condorCgroups: inputs.condorCgroups,
      jobsEndBy: jobsEndBy(config, Date.now()),
    }),
  );
  log.info(
    {
      event: 'condor-config-rendered',
      file: layout.configFile,
      siteConfigFiles,
      machineName: name,
      machineAttributes: attributes,
      jobAttributes: jobWrapper ? Object.keys(inputs.jobAttrs) : [],
    },
    'HTCondor configuration written',
  );
}
