import type { Argv } from 'yargs';

/** The options of `wn-agent fleet run|status|upgrade`, apart from the code that reads them (loaded only for `fleet`). */
export function fleetOptions(y: Argv): Argv {
  return y
    .option('spec', {
      type: 'string',
      describe: 'JSON worker spec (image, env, mounts, network, cpus, memoryMiB, args); re-read every cycle',
    })
    .option('name', { type: 'string', default: 'wn', describe: 'fleet name: label wn-fleet=<name> on every worker, prefix of their names' })
    .option('min', { type: 'string', default: '0', describe: 'workers kept with no demand' })
    .option('max', { type: 'string', describe: 'workers at most' })
    .option('max-surge', { type: 'string', default: '1', describe: 'upgrade: workers above the target while old ones are replaced' })
    .option('max-unavailable', { type: 'string', default: '1', describe: 'workers draining at once, at most (upgrade and scale-down)' })
    .option('interval', { type: 'string', default: '10s', describe: 'time between two observe-plan-act cycles' })
    .option('engine-socket', {
      type: 'string',
      default: '/run/podman/podman.sock',
      describe: 'Docker Engine API socket (podman system service, or /var/run/docker.sock)',
    })
    .option('admin-token-file', {
      type: 'string',
      describe: "file holding the fleet's key (first line, 16+ characters): each worker's own admin token is HMAC-SHA256(key, worker name)",
    })
    .option('worker-privileges', {
      type: 'string',
      default: 'auto',
      describe:
        'how workers get what they need: capabilities (SYS_ADMIN, NET_ADMIN, /dev/fuse, cgroupfs writable), privileged, or auto (capabilities on cgroup v1 engines, privileged on v2)',
    })
    .option('worker-tls-cert', {
      type: 'string',
      describe: 'PEM certificate every worker serves its admin port with (TLS); needs --worker-tls-key and --worker-ca-file',
    })
    .option('worker-tls-key', { type: 'string', describe: 'PEM key of --worker-tls-cert, put into each worker root-only' })
    .option('worker-ca-file', {
      type: 'string',
      describe: 'PEM CA that signed --worker-tls-cert: the only one the controller trusts when it reads workers over https',
    })
    .option('condor-config', {
      type: 'string',
      describe: 'HTCondor configuration reaching the pool, for condor_q (default: $CONDOR_CONFIG)',
    })
    .option('job-constraint', { type: 'string', describe: 'extra ClassAd constraint on the idle jobs that count as demand' })
    .option('owner-demand-cap', {
      type: 'string',
      describe: "idle jobs of one owner that count as demand, at most (default: the fleet's capacity, --max x CPUs per worker)",
    })
    .option('metrics-listen', {
      type: 'string',
      default: '0.0.0.0:9681',
      describe: "host:port for the fleet's /metrics and /healthz; off to turn off",
    })
    .option('image', { type: 'string', describe: 'upgrade: the image new workers start from' })
    .option('env', {
      type: 'string',
      array: true,
      describe: "upgrade: KEY=VALUE set in the workers' environment (KEY= removes it); repeatable",
    })
    .option('wait', { type: 'string', describe: 'upgrade: wait this long (e.g. 2h) for every live worker to run the new spec' });
}
