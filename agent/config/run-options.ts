import { defaults } from './options.ts';

/**
 * The options of `wn-agent run`, once: the command line (yargs, with WN_<FLAG> variables), the type of what it
 * parses (RawOptions), and the README's configuration table (test/config/run-options.test.ts keeps them equal) all
 * come from this table. Values are strings here; config/parse.ts validates and converts each one.
 */
interface RunOption {
  flag: string;
  describe: string;
  array?: true;
}

export const runOptions = [
  { flag: 'condor-host', describe: 'central manager, host[:port] (also CONDOR_HOST)' },
  { flag: 'state-dir', describe: `agent state: HTCondor config, logs, spool, execute (default ${defaults.stateDir})` },
  { flag: 'pool-password-file', describe: `pool password as mounted (default ${defaults.poolPasswordFile})` },
  { flag: 'token-dir', describe: `IDTOKENS as mounted (default ${defaults.tokenDir})` },
  { flag: 'site-config-dir', describe: `extra HTCondor config files, included last (default ${defaults.siteConfigDir})` },
  { flag: 'cpus', describe: 'CPUs of the partitionable slot (default: detected)' },
  { flag: 'memory', describe: 'memory of the partitionable slot: MiB or 4G, 512Mi (default: detected)' },
  { flag: 'startup-timeout', describe: `how long the startd may take to appear in the collector (default ${defaults.startupTimeout})` },
  { flag: 'stop-timeout', describe: `graceful HTCondor shutdown before fast shutdown (default ${defaults.stopTimeout})` },
  { flag: 'update-interval', describe: `startd ad updates to the collector (default ${defaults.updateInterval}s)` },
  { flag: 'log-level', describe: `trace, debug, info, warn, error (default ${defaults.logLevel})` },
  { flag: 'attr', array: true, describe: 'extra slot attribute Name=value, repeatable (also WN_ATTR_<Name>=value)' },
  { flag: 'image', describe: 'image name for ContainerImage (default: the image metadata file)' },
  { flag: 'container-host', describe: 'physical host for ContainerHost, where the scheduler does not say' },
  {
    flag: 'job-runtime-attribute',
    describe: `job attribute with its expected runtime in minutes: with --accept-jobs-for or --max-lifetime, a job that cannot finish before the drain does not start (default ${defaults.jobRuntimeAttribute})`,
  },
  { flag: 'task-id', describe: "ContainerTaskId where no scheduler says (wn-agent fleet sets it to the worker's name)" },
  {
    flag: 'reserved-memory',
    describe: `memory kept from a detected limit for the agent and HTCondor (default ${defaults.reservedMemory})`,
  },
  { flag: 'k8s-pod-name-var', describe: `downward-API variable with the pod name (default ${defaults.k8sPodNameVar})` },
  { flag: 'k8s-namespace-var', describe: `... with the namespace (default ${defaults.k8sNamespaceVar})` },
  { flag: 'k8s-pod-uid-var', describe: `... with the pod UID (default ${defaults.k8sPodUidVar})` },
  { flag: 'k8s-node-name-var', describe: `... with the node name (default ${defaults.k8sNodeNameVar})` },
  { flag: 'job-isolation', describe: `per-job cgroups and namespaces: required, best-effort or off (default ${defaults.jobIsolation})` },
  { flag: 'job-pids-max', describe: `pids.max of each job's cgroup, 0 for none (default ${defaults.jobPidsMax})` },
  { flag: 'job-cpu-hard-limit', describe: `cap each job's CPU time at its slot's Cpus (default ${defaults.jobCpuHardLimit})` },
  {
    flag: 'job-pid-namespaces',
    describe: `each job in its own PID namespace (default ${defaults.jobPidNamespaces}); false lets HTCondor 23.9 hold jobs over their memory on cgroup v2`,
  },
  { flag: 'cvmfs-repositories', describe: 'CVMFS repositories the worker needs, comma-separated (atlas.cern.ch,cms.cern.ch)' },
  { flag: 'cvmfs-optional-repositories', describe: 'CVMFS repositories advertised when healthy, not required' },
  {
    flag: 'cvmfs-mode',
    describe: `mount (inside the container), bind (verify mounts from the host), auto (default ${defaults.cvmfsMode})`,
  },
  { flag: 'cvmfs-mount-root', describe: `where repositories are mounted (default ${defaults.cvmfsMountRoot})` },
  { flag: 'cvmfs-http-proxy', describe: 'CVMFS_HTTP_PROXY for mount mode' },
  { flag: 'cvmfs-cache-base', describe: `CVMFS_CACHE_BASE for mount mode (default ${defaults.cvmfsCacheBase})` },
  { flag: 'cvmfs-quota', describe: `CVMFS_QUOTA_LIMIT in MiB for mount mode (default ${defaults.cvmfsQuota})` },
  { flag: 'cvmfs-probe-interval', describe: `how often repositories are probed (default ${defaults.cvmfsProbeInterval})` },
  { flag: 'cvmfs-probe-timeout', describe: `how long one probe may take (default ${defaults.cvmfsProbeTimeout})` },
  {
    flag: 'health-check-dir',
    describe: 'site health checks: every executable in it runs as root; one failing closes START (default: none)',
  },
  { flag: 'health-check-interval', describe: `pause between rounds of health checks (default ${defaults.healthCheckInterval})` },
  { flag: 'health-check-timeout', describe: `how long one health check may run (default ${defaults.healthCheckTimeout})` },
  {
    flag: 'min-free-disk',
    describe: `below this much free space on the execute disk no job starts and the job with the largest scratch is held: a size (1G) or a share (5%) (default ${defaults.minFreeDisk})`,
  },
  {
    flag: 'black-hole-failures',
    describe: `jobs in a row failing within --black-hole-window of starting that stop new jobs for --black-hole-cooldown, 0 for never (default ${defaults.blackHoleFailures})`,
  },
  {
    flag: 'black-hole-window',
    describe: `a failed job counts toward a black hole when it ended this soon after starting (default ${defaults.blackHoleWindow})`,
  },
  { flag: 'black-hole-cooldown', describe: `how long a black-hole worker takes no new job (default ${defaults.blackHoleCooldown})` },
  { flag: 'idle-timeout', describe: 'exit 0 after this long without work (20s, 10m; default: never)' },
  {
    flag: 'drain-timeout',
    describe: `on SIGTERM: how long running jobs may finish before they are vacated (default ${defaults.drainTimeout})`,
  },
  { flag: 'accept-jobs-for', describe: 'stop matching new jobs this long after start, then drain (default: no limit)' },
  { flag: 'max-lifetime', describe: 'drain this long after start, then exit (default: no limit)' },
  { flag: 'master-restarts', describe: `condor_master restarts allowed within 10 minutes (default ${defaults.masterRestarts})` },
  { flag: 'admin-listen', describe: `HTTP health, readiness and metrics, host:port or off (default ${defaults.adminListen})` },
  { flag: 'admin-token', describe: 'token for the event stream /v1/events (at least 16 characters); without one the websocket is off' },
  { flag: 'admin-token-file', describe: 'file holding that token (first line)' },
  { flag: 'event-backlog', describe: `events kept for replay with ?since= (default ${defaults.eventBacklog})` },
  { flag: 'admin-max-clients', describe: `event stream connections at most (default ${defaults.adminMaxClients})` },
  { flag: 'admin-tls-cert', describe: 'PEM certificate: serve the admin port with TLS' },
  { flag: 'admin-tls-key', describe: 'PEM key for --admin-tls-cert' },
  {
    flag: 'placement-timeout',
    describe: `how long a starter waits for its cgroup before the job is refused (default ${defaults.placementTimeout})`,
  },
] as const satisfies readonly RunOption[];

type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;

/** What yargs hands over for `run`: every option by its camel-case name, as given (strings; --attr repeatable). */
export type RawOptions = {
  [O in (typeof runOptions)[number] as Camel<O['flag']>]?: O extends { array: true } ? string[] | undefined : string | undefined;
};
