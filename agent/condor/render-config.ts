import { condorPaths } from '../config/options.ts';
import type { AgentConfig } from '../config/options.ts';
import { configClassAdString } from './classad.ts';
import type { CondorLayout } from './layout.ts';
import { slotUserConfig, type SlotAccount } from './slot-users.ts';

/** A signing key name no file in SEC_PASSWORD_DIRECTORY has: HTCondor then signs no token for anyone. */
export const noIssuingKey = 'WN_AGENT_ISSUES_NO_TOKENS';

export interface RenderInput {
  config: AgentConfig;
  layout: CondorLayout;
  /** Unique per agent run; advertised so the agent can find its own ads in the collector. */
  instanceId: string;
  /** Site configuration files to include after the agent's own settings, in this order. */
  siteConfigFiles: readonly string[];
  /** Slot resources decided by the agent (flags, cgroup limits, scheduler, host). */
  resources: { cpus: number; memoryMiB: number };
  /** Attributes for every slot ad: traceability and the operator's --attr values. Plain strings; quoted here. */
  attributes: Record<string, string>;
  /** Unique per container, so that two containers with one host name are two machines. */
  machineName: string;
  /** USER_JOB_WRAPPER, when the image has it. */
  jobWrapper?: string | undefined;
  /** STARTER, when the agent places jobs in their own cgroups. */
  starterWrapper?: string | undefined;
  /** HTCondor's PID namespaces and private /tmp, /var/tmp (need CAP_SYS_ADMIN). */
  namespaces: boolean;
  /** The file the agent keeps CVMFS health in, when repositories are configured. */
  cvmfsAdFile?: string | undefined;
  /** The file the agent keeps the site health checks' verdict in, when --health-check-dir is set. */
  healthAdFile?: string | undefined;
  /** GPU device nodes were given to the container: leave HTCondor's GPU discovery on. */
  gpus?: boolean;
  /** One account per dynamic slot (SLOT1_N_USER); without them every job runs as nobody. */
  slotAccounts?: readonly SlotAccount[];
  /** HTCondor's own cgroup code nests each job's cgroup in the agent's (the starter wrapper sets BASE_CGROUP). */
  condorCgroups?: boolean;
  /** When running jobs must be done (epoch seconds: --accept-jobs-for, --max-lifetime), or undefined. */
  jobsEndBy?: number | undefined;
}

/**
 * The execute node's HTCondor configuration. Self-contained (it does not read Debian's /etc/condor/condor_config),
 * so what the startd does is decided here and in the site's files only.
 */
export function renderCondorConfig(input: RenderInput): string {
  const {
    config,
    layout,
    instanceId,
    siteConfigFiles,
    resources,
    attributes,
    machineName,
    jobWrapper,
    starterWrapper,
    namespaces,
    cvmfsAdFile,
    healthAdFile,
    gpus = false,
    slotAccounts = [],
    condorCgroups = false,
    jobsEndBy,
  } = input;
  const advertised = { WnAgentInstance: instanceId, ...attributes };
  const lines = [
    '# Rendered by wn-agent at every start; edits here are lost. Site settings go in files under',
    `# ${config.siteConfigDir} (included at the end).`,
    '',
    `RELEASE_DIR = ${condorPaths.releaseDir}`,
    `BIN = ${condorPaths.bin}`,
    `SBIN = ${condorPaths.sbin}`,
    `LIBEXEC = ${condorPaths.libexec}`,
    `LIB = ${condorPaths.lib}`,
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
    "# A job authenticates to this worker's own daemons by FS as its slot account (READ and WRITE are anyone's), and",
    '# DaemonCore signs a token for any authenticated peer that asks (condor_token_fetch: DC_GET_SESSION_TOKEN) with',
    '# SEC_TOKEN_ISSUER_KEY, POOL by default: a job got a pool-signed token that way. The daemons here issue none: the',
    '# issuer key and the keys a client may ask for name a key that does not exist.',
    `SEC_TOKEN_ISSUER_KEY = ${noIssuingKey}`,
    `SEC_TOKEN_FETCH_ALLOWED_SIGNING_KEYS = ${noIssuingKey}`,
    '',
    '# Containers: no kernel tuning (read-only /proc/sys); the agent, not HTCondor, supervises and restarts.',
    'ENABLE_KERNEL_TUNING = False',
    'RUNBENCHMARKS = False',
    '# Start-up time: before its first ad the startd asks every file-transfer plugin what it can do, and the Python',
    '# ones (box, gdrive, onedrive) take about 0.3 s each. Grid jobs use http(s) and data: URLs; a site that needs',
    '# the others adds them back in its own configuration (--site-config-dir).',
    'FILETRANSFER_PLUGINS = $(LIBEXEC)/curl_plugin, $(LIBEXEC)/data_plugin',
    ...(gpus
      ? []
      : ['# No GPU device nodes in this container: no condor_gpu_discovery run before the first ad.', 'STARTD_DETECT_GPUS = false']),
    `UPDATE_INTERVAL = ${config.updateIntervalS}`,
    '',
    '# One partitionable slot owning the whole container.',
    'NUM_SLOTS = 1',
    'NUM_SLOTS_TYPE_1 = 1',
    `NUM_CPUS = ${resources.cpus}`,
    `MEMORY = ${resources.memoryMiB}`,
    'SLOT_TYPE_1 = 100%',
    'SLOT_TYPE_1_PARTITIONABLE = True',
    'use POLICY: Always_Run_Jobs',
    '',
    '# A name per container: host names repeat across containers (and pods), machines in the collector must not.',
    `NETWORK_HOSTNAME = ${machineName}`,
    '',
    '# Traceability and operator attributes, in every slot ad (dynamic slots inherit STARTD_ATTRS).',
    ...Object.entries(advertised).map(([name, value]) => `${name} = ${configClassAdString(value)}`),
    `STARTD_ATTRS = $(STARTD_ATTRS) ${Object.keys(advertised).join(' ')}`,
    ...(jobWrapper
      ? [
          '',
          '# Has the agent record task, container and image in each job ad (Chirp), then execs the job.',
          `USER_JOB_WRAPPER = ${jobWrapper}`,
        ]
      : []),
    ...(slotAccounts.length > 0
      ? [
          '',
          "# Slot users: each dynamic slot's jobs run as an account of their own (its scratch is 0700 to it).",
          ...slotUserConfig(slotAccounts),
        ]
      : []),
    '',
    '# condor_ssh_to_job: the starter runs sshd (openssh-server in the image) as the job, in its scratch and cgroup.',
    'ENABLE_SSH_TO_JOB = True',
    'SSH_TO_JOB_SSHD = /usr/sbin/sshd',
    '',
    "# Job isolation: the agent puts each starter into the slot's own cgroup through the STARTER wrapper. No daemon",
    "# has a BASE_CGROUP of its own: where HTCondor's cgroup code can work here (v1), the wrapper gives each starter",
    "# its slot's cgroup as BASE_CGROUP, so HTCondor nests the job's cgroup in it and enforces and reports memory itself.",
    'BASE_CGROUP =',
    ...(condorCgroups
      ? [
          'CGROUP_MEMORY_LIMIT_POLICY = hard',
          "# ImageSize is the job cgroup's peak (memory.max_usage_in_bytes); ResidentSetSize is the usage at the last update.",
          'MEMORY_USAGE_METRIC = ((ImageSize+1023)/1024)',
        ]
      : []),
    ...(starterWrapper ? [`STARTER = ${starterWrapper}`] : []),
    `USE_PID_NAMESPACES = ${namespaces && config.jobPidNamespaces ? 'True' : 'False'}`,
    ...(namespaces ? ['MOUNT_UNDER_SCRATCH = /tmp,/var/tmp'] : []),
    ...(cvmfsAdFile
      ? [
          '',
          "# CVMFS health from the agent's probes, published by a startd cron job (a cat of the agent's file); a change is",
          '# sent to the collector at once. Jobs that set RequiresCVMFS = "repo,..." start only where all of them are healthy.',
          'STARTD_CRON_JOBLIST = $(STARTD_CRON_JOBLIST) WNCVMFS',
          'STARTD_CRON_WNCVMFS_EXECUTABLE = /bin/cat',
          `STARTD_CRON_WNCVMFS_ARGS = ${cvmfsAdFile}`,
          'STARTD_CRON_WNCVMFS_MODE = Periodic',
          'STARTD_CRON_WNCVMFS_PERIOD = 2s',
          'STARTD_CRON_AUTOPUBLISH = If_Changed',
          // No ?: here: the negotiator fetches machine ads projected onto the attributes their expressions reference,
          // and an attribute only referenced under ?: was missing from that projection (jobs were never matched).
          'WN_CVMFS_START = (TARGET.RequiresCVMFS =?= undefined) || (stringListSubsetMatch(TARGET.RequiresCVMFS, MY.CVMFS_HEALTHY) =?= true)',
          'START = ($(START)) && ($(WN_CVMFS_START))',
        ]
      : []),
    ...(healthAdFile
      ? [
          '',
          "# Worker health (the site's checks, the execute disk, black holes), published like CVMFS health by a cat of",
          "# the agent's file: while one fails no new job starts on any slot; running jobs are left alone. The first",
          '# verdict is written before the startd starts.',
          'STARTD_CRON_JOBLIST = $(STARTD_CRON_JOBLIST) WNHEALTH',
          'STARTD_CRON_WNHEALTH_EXECUTABLE = /bin/cat',
          `STARTD_CRON_WNHEALTH_ARGS = ${healthAdFile}`,
          'STARTD_CRON_WNHEALTH_MODE = Periodic',
          'STARTD_CRON_WNHEALTH_PERIOD = 2s',
          'STARTD_CRON_AUTOPUBLISH = If_Changed',
          // Plain operators, no ?:, as for CVMFS above (the negotiator's projection of the machine ad).
          'START = ($(START)) && (MY.WnHealthy =!= false)',
          '# The execute disk is nearly full (--min-free-disk): the agent names the dynamic slot whose job holds the most',
          '# scratch, and the startd holds that job (HoldReasonCode 21, StartdHeldJob; HoldReasonSubCode 1). A site policy',
          '# that sets PREEMPT or WANT_HOLD after this keeps it by including $(WN_DISK_HOLD).',
          'WN_DISK_HOLD = ((MY.Name == MY.WnDiskHoldSlot) =?= true)',
          'PREEMPT = ($(PREEMPT:False)) || $(WN_DISK_HOLD)',
          'WANT_HOLD = ($(WANT_HOLD:False)) || $(WN_DISK_HOLD)',
          'WANT_HOLD_REASON = ifThenElse($(WN_DISK_HOLD), MY.WnDiskHoldReason, $(WANT_HOLD_REASON:undefined))',
          'WANT_HOLD_SUBCODE = ifThenElse($(WN_DISK_HOLD), 1, $(WANT_HOLD_SUBCODE:0))',
          '# PREEMPT first retires the claim for MaxJobRetirementTime (unlimited under POLICY:ALWAYS_RUN_JOBS): none for',
          '# the job the disk hold names, so it is held at the next policy evaluation (POLLING_INTERVAL), not when it ends.',
          'MAXJOBRETIREMENTTIME = ifThenElse($(WN_DISK_HOLD), 0, $(MAXJOBRETIREMENTTIME:0))',
        ]
      : []),
    ...(jobsEndBy !== undefined ? ['', ...lifetimeGuard(jobsEndBy, config.jobRuntimeAttribute)] : []),
    '',
    '# Site configuration',
    ...siteConfigFiles.map((file) => `include : ${file}`),
    '',
  ];
  return lines.join('\n');
}

/**
 * The lifetime guard: this worker drains at a time known at start, and a job still running when its drain ends is
 * vacated halfway. A job that says how long it will run (minutes, in `attribute`) starts only if it can finish
 * before then; a job that does not say starts as before. Plain boolean operators, no ?:, as for CVMFS above.
 */
function lifetimeGuard(endBy: number, attribute: string): string[] {
  return [
    `# --accept-jobs-for / --max-lifetime: jobs still running at WnJobsEndBy (epoch seconds) are vacated. A job that`,
    `# declares its expected runtime in ${attribute} (minutes) starts only if it can finish by then.`,
    `WnJobsEndBy = ${endBy}`,
    'STARTD_ATTRS = $(STARTD_ATTRS) WnJobsEndBy',
    `WN_LIFETIME_START = (TARGET.${attribute} =?= undefined) || (time() + 60 * TARGET.${attribute} <= MY.WnJobsEndBy)`,
    'START = ($(START)) && ($(WN_LIFETIME_START))',
  ];
}
