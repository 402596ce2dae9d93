import type { Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { attributeEnvPrefix, parseConfig } from '../config/parse.ts';
import { runOptions, type RawOptions } from '../config/run-options.ts';
import { AgentError } from '../errors.ts';
import { nearest } from '../util/nearest.ts';
import { fail, orFail } from './common.ts';
import { withOptions } from '../util/option-table.ts';

/**
 * WN_ATTR_<Name> variables carry operator attributes, not options: yargs' strict mode would call them unknown. They
 * are taken out of the environment before yargs reads it, and handed to parseConfig.
 */
export function takeAttributeEnv(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const taken = Object.fromEntries(Object.entries(env).filter(([key]) => key.startsWith(attributeEnvPrefix)));
  for (const key of Object.keys(taken)) delete env[key];
  return taken;
}

/**
 * yargs names an unknown WN_FOO variable as "foo": say which variable it was, and the nearest known option, since an
 * unknown WN_* variable is nearly always a typo (WN_IDLE_TIMOUT). Variables of other tools must not start with WN_.
 */
export function unknownArgumentMessage(message: string, env: NodeJS.ProcessEnv): string {
  const known = runOptions.map((option) => option.flag);
  const unknown = Object.keys(env).filter((key) => key.startsWith('WN_'));
  const named = unknown.filter((key) => message.toLowerCase().includes(key.slice(3).toLowerCase().replaceAll('_', '')));
  // yargs lists a dashed flag twice (idle-timout, idleTimout): one hint per flag.
  const words = (/Unknown arguments?: (.*)$/.exec(message)?.[1]?.split(', ') ?? []).filter(
    (w, _i, all) => !/[A-Z]/.test(w) || !all.some((o) => o.includes('-') && o.replaceAll('-', '').toLowerCase() === w.toLowerCase()),
  );
  const hints = words.flatMap((word) => {
    const near = nearest(word, known);
    return near ? [`${word}: did you mean --${near} (WN_${near.toUpperCase().replaceAll('-', '_')})?`] : [];
  });
  const parts = [message, ...(named.length ? [`from the environment: ${named.join(', ')}`] : []), ...hints];
  return parts.length > 1 ? `${parts.join('; ')}; see wn-agent --help` : message;
}

/** `wn-agent run` (the default command): the worker node, until it exits with a code that says why. */
export function runCommand(attributeEnv: Record<string, string | undefined>) {
  return {
    command: ['run', '$0'],
    describe: 'run the worker node: HTCondor startd in this container, joined to the pool at CONDOR_HOST',
    // Strict only here: an unknown flag or WN_* variable is a typo in the worker's configuration. The other commands
    // run inside the same container, with the same WN_* environment, and must not trip over it.
    builder: (y: Argv) => withOptions(y.strict(), runOptions),
    handler: async (raw: Record<string, unknown>): Promise<void> => {
      // argv is world-readable in /proc/<pid>/cmdline, tini's (PID 1) included, for the container's whole life.
      if (hideBin(process.argv).some((arg) => /^--admin-?token(=|$)/i.test(arg)))
        fail(
          new AgentError(
            'WN_ERR_CONFIG',
            '--admin-token: a token on the command line is readable by every process of the container in /proc/<pid>/cmdline; give it as WN_ADMIN_TOKEN or --admin-token-file (WN_ADMIN_TOKEN_FILE)',
          ),
        );
      const config = orFail(() => parseConfig(raw as RawOptions, { ...process.env, ...attributeEnv }));
      // Every process the agent starts (condor_master, its daemons, starters and, with JOB_INHERITS_STARTER_ENVIRONMENT,
      // jobs) inherits this environment: the agent's own variables, WN_ADMIN_TOKEN among them, go no further.
      for (const key of Object.keys(process.env)) if (key.startsWith('WN_')) delete process.env[key];
      const [{ detectTraceability, logFields }, { EventHub }, { createLogger }, { logTap }, { runAgent }] = await Promise.all([
        import('../metadata/traceability.ts'),
        import('../events/hub.ts'),
        import('../log/logger.ts'),
        import('../events/log-tap.ts'),
        import('../lifecycle/run.ts'),
      ]);
      // Detected before the logger exists: every line, HTCondor's included, carries task, container and image.
      const trace = await detectTraceability(process.env, {
        kubernetesEnv: config.kubernetesEnv,
        overrides: { image: config.image, host: config.containerHost, taskId: config.taskId },
      });
      const hub = new EventHub(config.eventBacklog);
      const { logger, flush } = createLogger(config.logLevel, logFields(trace), 1, logTap(hub));
      const summary = await runAgent(config, logger, trace, hub);
      logger.info({ event: 'summary', ...summary }, `wn-agent exiting: ${summary.reason}`);
      flush();
      process.exit(summary.exitCode);
    },
  };
}
