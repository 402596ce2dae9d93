import type { Argv } from 'yargs';
import { AgentError } from '../errors.ts';
import { fleetOptions } from '../fleet/options.ts';
import { listenForStop } from '../lifecycle/signals.ts';
import { fail, failWith, orFail } from './common.ts';
import { withOptions } from '../util/option-table.ts';

/** `wn-agent fleet run|status|upgrade`: the controller, one look at the fleet, or a change of its spec file. */
export const fleetCommand = {
  command: 'fleet <action>',
  describe: "run (or show) a fleet of workers on a container engine, scaled to the pool's idle jobs and upgraded by draining",
  builder: (y: Argv) =>
    withOptions(
      y.positional('action', {
        choices: ['run', 'status', 'upgrade'] as const,
        describe: 'run: the controller; status: one look, then exit; upgrade: change the spec file the controller rolls out',
      }),
      fleetOptions,
    ),
  handler: async (argv: Record<string, unknown>): Promise<void> => {
    const { fleetController, fleetStatusScreen, fleetUpgrade, parseFleetConfig } = await import('../fleet/command.ts');
    if (argv.action === 'upgrade') return fleetUpgrade(argv).catch(failWith);
    const config = orFail(() => parseFleetConfig(argv, process.env));
    const { createLogger } = await import('../log/logger.ts');
    const { logger, flush } = createLogger('info', { component: 'fleet', fleet: config.name });
    const controller = fleetController(config, logger);
    if (argv.action === 'status') {
      process.stdout.write(fleetStatusScreen(await controller.observe().catch(failWith)));
      process.exit(0);
    }
    // The controller stops at the first SIGTERM/SIGINT; the workers go on (they drain only when asked, or when idle).
    const signals = listenForStop(() => undefined);
    void signals.first.then((signal) => {
      logger.info({ event: 'fleet-stopping', signal }, 'fleet controller stopping; workers keep running');
      controller.stop();
    });
    if (config.metricsListen) {
      const { host, port } = config.metricsListen;
      const { createFleetMetrics, serveFleetMetrics } = await import('../fleet/metrics.ts');
      await serveFleetMetrics(createFleetMetrics(controller), host, port).catch((error: unknown) =>
        fail(new AgentError('WN_ERR_CONFIG', `--metrics-listen ${host}:${port}: ${(error as Error).message}`)),
      );
    }
    logger.info(
      {
        event: 'fleet-starting',
        min: config.min,
        max: config.max,
        maxSurge: config.maxSurge,
        maxUnavailable: config.maxUnavailable,
        engine: config.engineSocket,
        metricsListen: config.metricsListen,
        workerAdmin: config.workerTls ? 'https' : 'http',
      },
      'fleet controller starting',
    );
    await controller.run();
    signals.dispose();
    flush();
    process.exit(0);
  },
};
