/**
 * The agent's one typed configuration, and its defaults. Every value is validated in ./parse.ts;
 * the CLI (../cli.ts) only maps argv and environment onto it.
 */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface AgentConfig {
  /** Central manager ("host" or "host:port"); HTCondor's own images take it from CONDOR_HOST. */
  condorHost: string;
  /** Where the agent keeps its HTCondor configuration, logs, spool and execute directories. */
  stateDir: string;
  /** The pool password as mounted (a Kubernetes secret cannot set owner and mode, so it is copied with 0600). */
  poolPasswordFile: string;
  /** IDTOKENS as mounted; each file is copied with 0600. */
  tokenDir: string;
  /** Extra HTCondor configuration from the site: every file in it is included after the agent's own. */
  siteConfigDir: string;
  /** Slot resources; undefined means HTCondor detects them. */
  cpus: number | undefined;
  memoryMiB: number | undefined;
  /** How long the startd may take to appear in the collector. */
  startupTimeoutMs: number;
  /** How long HTCondor may take to shut down gracefully before it is stopped fast, then killed. */
  stopTimeoutMs: number;
  /** Seconds between the startd's ad updates to the collector (HTCondor's UPDATE_INTERVAL). */
  updateIntervalS: number;
  logLevel: LogLevel;
  /** Operator attributes for every slot ad (--attr Name=value, WN_ATTR_<Name>=value); values are strings. */
  attributes: Record<string, string>;
  /** Overrides the image name from the image's metadata file. */
  image: string | undefined;
  /** The physical host, where the scheduler does not say (Nomad, plain podman/docker). */
  containerHost: string | undefined;
  /** ContainerTaskId where no scheduler sets one (a fleet's worker name); else the container's name or ID. */
  taskId: string | undefined;
  /** The job attribute that says a job's expected runtime in minutes (the lifetime guard reads it). */
  jobRuntimeAttribute: string;
  /** Names of the downward-API variables of a Kubernetes pod. */
  kubernetesEnv: { podName: string; namespace: string; podUid: string; nodeName: string };
  /** Memory kept back for the agent and HTCondor's daemons when the slot's memory is detected. */
  reservedMemoryMiB: number;
  /** Per-job cgroups and namespaces: refuse to start without them, degrade, or leave them off. */
  jobIsolation: JobIsolationMode;
  /** pids.max of each job's cgroup (0: none). */
  jobPidsMax: number;
  /** Cap each job's CPU time at its slot's Cpus, not only weight it. */
  jobCpuHardLimit: boolean;
  /**
   * HTCondor gives each job its own PID namespace (USE_PID_NAMESPACES). Off, on cgroup v2 HTCondor 23.9's own cgroup
   * code can hold a job over its memory (with both on, 23.9 cannot put the job in its cgroup: HTCONDOR-2590).
   */
  jobPidNamespaces: boolean;
  /** How long the starter wrapper waits for the agent to place a job before it refuses to run it. */
  placementTimeoutMs: number;
  cvmfs: CvmfsConfig;
  healthCheck: HealthCheckConfig;
  /** Below this much free space on the execute filesystem no job starts and the largest scratch's job is held. */
  minFreeDisk: MinFreeDisk;
  blackHole: BlackHoleOptions;
  /** Exit 0 after this long without work; undefined: never. */
  idleTimeoutMs: number | undefined;
  /** On SIGTERM/SIGINT/drain: how long running jobs may take before they are vacated back to the queue. */
  drainTimeoutMs: number;
  /** Stop matching new jobs this long after start, then drain. */
  acceptJobsForMs: number | undefined;
  /** Drain this long after start (bounded by --drain-timeout), then exit. */
  maxLifetimeMs: number | undefined;
  /** condor_master restarts allowed within 10 minutes before the agent gives up (exit 3). */
  masterRestarts: number;
  /** host:port of the HTTP server (health, readiness, metrics); "" turns it off. */
  adminListen: { host: string; port: number } | undefined;
  /** Token for the event stream (and remote drain/status); without it the websocket is off. Never logged. */
  adminToken: string | undefined;
  /** Events kept for replay (?since=). */
  eventBacklog: number;
  adminMaxClients: number;
  /** Where the token was read from (--admin-token-file): hidden from jobs at start like the credentials. */
  adminTokenFile: string | undefined;
  /** Serve the admin port with TLS. The PEM files' contents, read at start; the file names for messages and for hiding the key from jobs. */
  adminTls: { certFile: string; keyFile: string; cert: Buffer; key: Buffer } | undefined;
}

export const cvmfsModes = ['mount', 'bind', 'auto'] as const;
export type CvmfsMode = (typeof cvmfsModes)[number];

export interface CvmfsConfig {
  /** Repositories the worker cannot run without: missing at start = exit 4. */
  required: string[];
  /** Repositories that are advertised when healthy but do not stop the worker. */
  optional: string[];
  mode: CvmfsMode;
  mountRoot: string;
  httpProxy: string | undefined;
  cacheBase: string;
  quotaMiB: number;
  probeIntervalMs: number;
  probeTimeoutMs: number;
}

export interface HealthCheckConfig {
  /** The site's check programs, run as root every intervalMs; undefined: no checks. */
  dir: string | undefined;
  intervalMs: number;
  /** How long one check may run before its process group is killed and it counts as failed. */
  timeoutMs: number;
}

/** --min-free-disk: an absolute size or a share of the execute filesystem. */
export type MinFreeDisk = { mib: number } | { percent: number };

export interface BlackHoleOptions {
  /** Quick failures in a row that close START; 0: never. */
  failures: number;
  /** A failure counts when the job ended within this long of starting. */
  windowMs: number;
  /** How long START stays closed once tripped. */
  cooldownMs: number;
}

export const jobIsolationModes = ['required', 'best-effort', 'off'] as const;
export type JobIsolationMode = (typeof jobIsolationModes)[number];

export const defaults = {
  stateDir: '/var/lib/wn-agent',
  poolPasswordFile: '/etc/condor/passwords-orig.d/POOL',
  tokenDir: '/etc/condor/tokens-orig.d',
  siteConfigDir: '/etc/wn-agent/condor.d',
  startupTimeout: '2m',
  stopTimeout: '1m',
  updateInterval: '60',
  logLevel: 'info',
  k8sPodNameVar: 'POD_NAME',
  k8sNamespaceVar: 'POD_NAMESPACE',
  k8sPodUidVar: 'POD_UID',
  k8sNodeNameVar: 'NODE_NAME',
  reservedMemory: '256Mi',
  jobIsolation: 'required',
  jobPidsMax: '4096',
  jobCpuHardLimit: 'false',
  jobPidNamespaces: 'true',
  placementTimeout: '10s',
  cvmfsMode: 'auto',
  cvmfsMountRoot: '/cvmfs',
  cvmfsCacheBase: '/var/lib/cvmfs',
  cvmfsQuota: '4000',
  cvmfsProbeInterval: '30s',
  cvmfsProbeTimeout: '10s',
  healthCheckInterval: '60s',
  healthCheckTimeout: '30s',
  minFreeDisk: '1G',
  blackHoleFailures: '5',
  blackHoleWindow: '60s',
  blackHoleCooldown: '10m',
  drainTimeout: '5m',
  masterRestarts: '5',
  adminListen: '0.0.0.0:9680',
  eventBacklog: '10000',
  adminMaxClients: '64',
  jobRuntimeAttribute: 'MaxWallTimeMins',
} as const satisfies Record<string, string>;

/** Fixed facts about HTCondor as Debian and the image install it. */
export const condorPaths = {
  releaseDir: '/usr',
  sbin: '/usr/sbin',
  bin: '/usr/bin',
  // Debian puts helpers in /usr/libexec/condor; with our own CONDOR_CONFIG, HTCondor's default LIBEXEC is wrong there.
  libexec: '/usr/libexec/condor',
  // Debian puts the ssh_to_job sshd template in /usr/lib/condor; HTCondor's default $(LIB) would be /usr/lib.
  lib: '/usr/lib/condor',
} as const;

/** Paths shared with the shell helpers in image/ (they hard-code them: keep both sides in step). */
export const agentPaths = {
  /** image/libexec/job-wrapper asks the agent through runtimeDir/jobs/requests (agent/condor/job-start.ts). */
  runtimeDir: '/run/wn-agent',
  jobWrapper: '/usr/local/libexec/wn-agent/job-wrapper',
  /** image/libexec/starter-wrapper talks to the agent through FIFOs in runtimeDir/placement. */
  starterWrapper: '/usr/local/libexec/wn-agent/starter-wrapper',
  /** The admin API for local tools (wn-agent drain): root only, no token needed. */
  adminSocket: '/run/wn-agent/admin.sock',
} as const;
