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
      describe: 'file holding the admin token given to every worker (first line, 16+ characters)',
    })
    .option('condor-config', {
      type: 'string',
      describe: 'HTCondor configuration reaching the pool, for condor_q (default: $CONDOR_CONFIG)',
    })
    .option('job-constraint', { type: 'string', describe: 'extra ClassAd constraint on the idle jobs that count as demand' })
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
