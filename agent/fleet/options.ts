import type { OptionRow } from '../util/option-table.ts';

/** The options of `wn-agent fleet run|status|upgrade`, apart from the code that reads them (loaded only for `fleet`). */
export const fleetOptions: readonly OptionRow[] = [
  { flag: 'spec', describe: 'JSON worker spec (image, env, mounts, network, cpus, memoryMiB, args); re-read every cycle' },
  { flag: 'name', default: 'wn', describe: 'fleet name: label wn-fleet=<name> on every worker, prefix of their names' },
  { flag: 'min', default: '0', describe: 'workers kept with no demand' },
  { flag: 'max', describe: 'workers at most' },
  { flag: 'max-surge', default: '1', describe: 'upgrade: workers above the target while old ones are replaced' },
  { flag: 'max-unavailable', default: '1', describe: 'workers draining at once, at most (upgrade and scale-down)' },
  { flag: 'interval', default: '10s', describe: 'time between two observe-plan-act cycles' },
  {
    flag: 'engine-socket',
    default: '/run/podman/podman.sock',
    describe: 'Docker Engine API socket (podman system service, or /var/run/docker.sock)',
  },
  {
    flag: 'admin-token-file',
    describe: "file holding the fleet's key (first line, 16+ characters): each worker's own admin token is HMAC-SHA256(key, worker name)",
  },
  {
    flag: 'worker-privileges',
    default: 'auto',
    describe:
      'how workers get what they need: capabilities (SYS_ADMIN, NET_ADMIN, /dev/fuse, cgroupfs writable), privileged, or auto (capabilities on cgroup v1 engines, privileged on v2)',
  },
  {
    flag: 'worker-tls-cert',
    describe: 'PEM certificate every worker serves its admin port with (TLS); needs --worker-tls-key and --worker-ca-file',
  },
  { flag: 'worker-tls-key', describe: 'PEM key of --worker-tls-cert, put into each worker root-only' },
  {
    flag: 'worker-ca-file',
    describe: 'PEM CA that signed --worker-tls-cert: the only one the controller trusts when it reads workers over https',
  },
  { flag: 'condor-config', describe: 'HTCondor configuration reaching the pool, for condor_q (default: $CONDOR_CONFIG)' },
  { flag: 'job-constraint', describe: 'extra ClassAd constraint on the idle jobs that count as demand' },
  {
    flag: 'owner-demand-cap',
    describe: "idle jobs of one owner that count as demand, at most (default: the fleet's capacity, --max x CPUs per worker)",
  },
  { flag: 'metrics-listen', default: '0.0.0.0:9681', describe: "host:port for the fleet's /metrics and /healthz; off to turn off" },
  { flag: 'image', describe: 'upgrade: the image new workers start from' },
  { flag: 'env', array: true, describe: "upgrade: KEY=VALUE set in the workers' environment (KEY= removes it); repeatable" },
  { flag: 'wait', describe: 'upgrade: wait this long (e.g. 2h) for every live worker to run the new spec' },
];
