import { condorPaths } from '../config/options.ts';
import type { AgentConfig } from '../config/options.ts';
import { classAdString } from './classad.ts';
import type { CondorLayout } from './layout.ts';

export interface RenderInput {
  config: AgentConfig;
  layout: CondorLayout;
  /** Unique per agent run; advertised so the agent can find its own ads in the collector. */
  instanceId: string;
  /** Site configuration files to include after the agent's own settings, in this order. */
  siteConfigFiles: readonly string[];
}

/**
 * The execute node's HTCondor configuration. Self-contained (it does not read Debian's /etc/condor/condor_config),
 * so what the startd does is decided here and in the site's files only.
 */
export function renderCondorConfig({ config, layout, instanceId, siteConfigFiles }: RenderInput): string {
  const slotResources = [
    config.cpus === undefined ? undefined : `cpus=${config.cpus}`,
    config.memoryMiB === undefined ? undefined : `memory=${config.memoryMiB}`,
  ].filter((part) => part !== undefined);

  const lines = [
    '# Rendered by wn-agent at every start; edits here are lost. Site settings go in files under',
    `# ${config.siteConfigDir} (included at the end).`,
    '',
    `RELEASE_DIR = ${condorPaths.releaseDir}`,
    `BIN = ${condorPaths.bin}`,
    `SBIN = ${condorPaths.sbin}`,
    `LIBEXEC = ${condorPaths.libexec}`,
    `LOCAL_DIR = ${layout.localDir}`,
    `LOG = ${layout.log}`,
    `SPOOL = ${layout.spool}`,
    `EXECUTE = ${layout.execute}`,
    `LOCK = ${layout.lock}`,
    `RUN = ${layout.run}`,
    '',
    '# The pool',
    `CONDOR_HOST = ${config.condorHost}`,
    'COLLECTOR_HOST = $(CONDOR_HOST)',
    'use ROLE: Execute',
    'DAEMON_LIST = MASTER, STARTD',
    '',
    '# Security: the ordinary 9.0+ pool setup, authenticated with the pool password or IDTOKENS.',
    'use SECURITY: recommended_v9_0',
    'SEC_DEFAULT_AUTHENTICATION_METHODS = FS, IDTOKENS, PASSWORD',
    `SEC_PASSWORD_DIRECTORY = ${layout.passwordDir}`,
    'SEC_PASSWORD_FILE = $(SEC_PASSWORD_DIRECTORY)/POOL',
    `SEC_TOKEN_DIRECTORY = ${layout.tokenDir}`,
    '',
    '# Containers: no kernel tuning (read-only /proc/sys); the agent, not HTCondor, supervises and restarts.',
    'ENABLE_KERNEL_TUNING = False',
    'RUNBENCHMARKS = False',
    `UPDATE_INTERVAL = ${config.updateIntervalS}`,
    '',
    '# One partitionable slot owning the whole container.',
    'NUM_SLOTS = 1',
    'NUM_SLOTS_TYPE_1 = 1',
    `SLOT_TYPE_1 = ${slotResources.length ? slotResources.join(', ') : '100%'}`,
    'SLOT_TYPE_1_PARTITIONABLE = True',
    ...(config.cpus === undefined ? [] : [`NUM_CPUS = ${config.cpus}`]),
    ...(config.memoryMiB === undefined ? [] : [`MEMORY = ${config.memoryMiB}`]),
    'use POLICY: Always_Run_Jobs',
    '',
    '# How the agent finds its own ads in the collector.',
    `WnAgentInstance = ${classAdString(instanceId)}`,
    'STARTD_ATTRS = $(STARTD_ATTRS) WnAgentInstance',
    '',
    '# Site configuration',
    ...siteConfigFiles.map((file) => `include : ${file}`),
    '',
  ];
  return lines.join('\n');
}
