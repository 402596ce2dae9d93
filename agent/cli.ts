#!/usr/bin/env node
/**
 * The command line: maps argv and WN_* variables onto one typed configuration and calls the library.
 * Every option also reads WN_<OPTION> (yargs .env('WN')); validation lives in config/parse.ts.
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { attributeEnvPrefix, parseConfig } from './config/parse.ts';
import { withRunOptions, type RawOptions } from './config/run-options.ts';
import { AgentError, ExitCode } from './errors.ts';
import { createLogger } from './log/logger.ts';
import { detectTraceability, logFields } from './metadata/traceability.ts';
import { agentVersion } from './version.ts';
import { readFileSync } from 'node:fs';
import { statusScreen } from './admin/status-screen.ts';
import { EventHub } from './events/hub.ts';
import { logTap } from './events/log-tap.ts';
import { agentPaths } from './config/options.ts';
import { parseDuration } from './config/units.ts';
import { nearest } from './util/nearest.ts';
import { fleetOptions } from './fleet/options.ts';

// Each command's code is imported when that command runs: the worker's start does not read the fleet's or tail's.

function fail(error: AgentError): never {
  // Config errors happen before the logger exists; one JSON line on stderr and one for people.
  process.stderr.write(`wn-agent: ${error.message}\n`);
  process.stderr.write(`${JSON.stringify({ level: 'fatal', code: error.code, msg: error.message })}\n`);
  process.exit(error.exitCode);
}

// The image's wrapper points Node at the code cache made at build time; the agent's children have no use for it.
delete process.env.NODE_COMPILE_CACHE;

// WN_ATTR_<Name> variables carry operator attributes, not options: yargs' strict mode would call them unknown.
const attributeEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith(attributeEnvPrefix)));
for (const key of Object.keys(attributeEnv)) delete process.env[key];

/** The run command's option names, read from its yargs instance when a strict check fails ("did you mean" hints). */
let runOptionNames: () => string[] = () => [];
function knownOptions<T>(y: T): T {
  const instance = y as unknown as { getOptions(): { key: Record<string, unknown> } };
  runOptionNames = () => Object.keys(instance.getOptions().key).filter((k) => /^[a-z]+(-[a-z]+)*$/.test(k));
  return y;
}

/**
 * yargs names an unknown WN_FOO variable as "foo": say which variable it was, and the nearest known option, since an
 * unknown WN_* variable is nearly always a typo (WN_IDLE_TIMOUT). Variables of other tools must not start with WN_.
 */
function unknownArgumentMessage(message: string, known: readonly string[]): string {
  const unknown = Object.keys(process.env).filter((key) => key.startsWith('WN_'));
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

/** No agent behind the local socket: say so in one line, exit 1 (not an internal error). */
function unreachable(error: unknown): never {
  process.stderr.write(`wn-agent: ${(error as Error).message}\n`);
  process.exit(ExitCode.unreachable);
}

/** status and drain: the local socket, or --url with the token (from outside the container). */
async function adminRequest(
  argv: Record<string, unknown>,
  method: 'GET' | 'POST',
  path: string,
): Promise<{ status: number; body: unknown }> {
  const { localRequest, remoteRequest } = await import('./admin/client.ts');
  if (argv.url === undefined) return localRequest(agentPaths.adminSocket, method, path);
  const fileToken = argv.adminTokenFile ? readFileSync(String(argv.adminTokenFile), 'utf8').split('\n')[0]?.trim() : undefined;
  const token = (argv.adminToken as string | undefined) ?? fileToken;
  if (!token) fail(new AgentError('WN_ERR_CONFIG', '--url needs the admin token: --admin-token-file or WN_ADMIN_TOKEN'));
  return remoteRequest(String(argv.url), token, method, path);
}

const remoteOptions = <T>(y: Argv<T>): Argv<T> =>
  y
    .option('url', { type: 'string', describe: "an agent's admin address (http[s]://host:9680) instead of the local socket" })
    .option('admin-token', { type: 'string', describe: 'the token, for --url (also WN_ADMIN_TOKEN)' })
    .option('admin-token-file', { type: 'string', describe: 'file holding the token (first line), for --url' });

async function run(raw: RawOptions): Promise<void> {
  // argv is world-readable in /proc/<pid>/cmdline, tini's (PID 1) included, for the container's whole life.
  if (hideBin(process.argv).some((arg) => /^--admin-?token(=|$)/i.test(arg))) {
    fail(
      new AgentError(
        'WN_ERR_CONFIG',
        '--admin-token: a token on the command line is readable by every process of the container in /proc/<pid>/cmdline; give it as WN_ADMIN_TOKEN or --admin-token-file (WN_ADMIN_TOKEN_FILE)',
      ),
    );
  }
  let config;
  try {
    config = parseConfig(raw, { ...process.env, ...attributeEnv });
  } catch (error) {
    if (error instanceof AgentError) fail(error);
    throw error;
  }
  // Every process the agent starts (condor_master, its daemons, starters and, with JOB_INHERITS_STARTER_ENVIRONMENT,
  // jobs) inherits this environment: the agent's own variables, WN_ADMIN_TOKEN among them, go no further.
  for (const key of Object.keys(process.env)) if (key.startsWith('WN_')) delete process.env[key];
  // Detected before the logger exists: every line, HTCondor's included, carries task, container and image.
  const trace = await detectTraceability(process.env, {
    kubernetesEnv: config.kubernetesEnv,
    overrides: { image: config.image, host: config.containerHost, taskId: config.taskId },
  });
  const hub = new EventHub(config.eventBacklog);
  const { logger, flush } = createLogger(config.logLevel, logFields(trace), 1, logTap(hub));
  const { runAgent } = await import('./lifecycle/run.ts');
  const summary = await runAgent(config, logger, trace, hub);
  logger.info({ event: 'summary', ...summary }, `wn-agent exiting: ${summary.reason}`);
  flush();
  process.exit(summary.exitCode);
}

// `wn-agent run ...` (the image's CMD) goes to the default command as if `run` were not there: yargs renders the whole
// help text (about 35 ms of CPU at every container start) before it runs a command named on the command line, and not
// for the default command. `wn-agent run --help` still shows the run options.
const cliArgs = hideBin(process.argv);
if (cliArgs[0] === 'run' && !cliArgs.includes('--help')) cliArgs.shift();

await yargs(cliArgs)
  .scriptName('wn-agent')
  .env('WN')
  .version(agentVersion)
  .command(
    ['run', '$0'],
    'run the worker node: HTCondor startd in this container, joined to the pool at CONDOR_HOST',
    // Strict only here: an unknown flag or WN_* variable is a typo in the worker's configuration. The other commands
    // run inside the same container, with the same WN_* environment, and must not trip over it.
    (y) => withRunOptions(knownOptions(y).strict()),
    (argv) => run(argv as RawOptions),
  )
  .command(
    'drain',
    'drain this worker (no new jobs; running jobs finish or are vacated at the deadline), then exit',
    (y) => remoteOptions(y).option('timeout', { type: 'string', describe: "drain deadline (default: the agent's --drain-timeout)" }),
    async (argv) => {
      const timeout = argv.timeout as string | undefined;
      if (timeout !== undefined && parseDuration(timeout) === undefined)
        fail(new AgentError('WN_ERR_CONFIG', `--timeout: expected a duration such as 10m, got ${JSON.stringify(timeout)}`));
      const query = timeout === undefined ? '' : `?timeout=${encodeURIComponent(timeout)}`;
      const { status, body } = await adminRequest(argv, 'POST', `/v1/drain${query}`).catch(unreachable);
      process.stdout.write(`${JSON.stringify(body)}\n`);
      process.exit(status === 202 ? 0 : 1);
    },
  )
  .command(
    'tail',
    "follow the agent's events over its websocket (reconnects without losing buffered events)",
    (y) =>
      y
        .option('url', { type: 'string', default: 'ws://127.0.0.1:9680', describe: "the agent's admin address (ws:// or wss://)" })
        .option('admin-token', { type: 'string', describe: 'the token (also WN_ADMIN_TOKEN)' })
        .option('admin-token-file', { type: 'string', describe: 'file holding the token (first line)' })
        .option('type', { type: 'string', describe: 'only these event types, comma-separated (job-started,job-finished,...)' })
        .option('severity', { type: 'string', describe: 'at least this severity (info, warn, error)' })
        .option('daemon', { type: 'string', describe: 'only lines of these HTCondor daemons (startd,starter,...)' })
        .option('since', { type: 'string', describe: 'replay from after this sequence number' })
        .option('count', { type: 'string', describe: 'exit after this many events' })
        .option('json', { type: 'boolean', default: false, describe: 'JSON lines instead of readable lines' }),
    async (argv) => {
      const fileToken = argv.adminTokenFile ? readFileSync(String(argv.adminTokenFile), 'utf8').split('\n')[0]?.trim() : undefined;
      const token = (argv.adminToken as string | undefined) ?? fileToken;
      if (!token)
        fail(new AgentError('WN_ERR_CONFIG', '--admin-token (WN_ADMIN_TOKEN) or --admin-token-file: the event stream needs the token'));
      const number = (flag: string, value: unknown): number | undefined => {
        if (value === undefined) return undefined;
        if (!/^\d+$/.test(String(value)))
          fail(new AgentError('WN_ERR_CONFIG', `--${flag}: expected a whole number, got ${JSON.stringify(value)}`));
        return Number(value);
      };
      const { tail } = await import('./admin/tail.ts');
      await tail({
        url: String(argv.url),
        token,
        types: argv.type as string | undefined,
        severity: argv.severity as string | undefined,
        daemon: argv.daemon as string | undefined,
        since: number('since', argv.since),
        count: number('count', argv.count),
        json: Boolean(argv.json),
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
      }).catch((error: unknown) => fail(new AgentError('WN_ERR_CONFIG', (error as Error).message)));
      process.exit(0);
    },
  )
  .command(
    'status',
    'one screen: state, slots, running jobs with their cgroup figures, CVMFS health, idle countdown or drain progress',
    (y) => remoteOptions(y).option('json', { type: 'boolean', default: false, describe: 'the JSON from GET /v1/status' }),
    async (argv) => {
      const { status, body } = await adminRequest(argv, 'GET', '/v1/status').catch(unreachable);
      process.stdout.write(
        argv.json || status !== 200 ? `${JSON.stringify(body, null, 2)}\n` : statusScreen(body as Record<string, unknown>),
      );
      process.exit(status === 200 ? 0 : 1);
    },
  )
  .command(
    'fleet <action>',
    "run (or show) a fleet of workers on a container engine, scaled to the pool's idle jobs and upgraded by draining",
    (y) =>
      fleetOptions(
        y.positional('action', {
          choices: ['run', 'status', 'upgrade'] as const,
          describe: 'run: the controller; status: one look, then exit; upgrade: change the spec file the controller rolls out',
        }),
      ),
    async (argv) => {
      const { fleetController, fleetStatusScreen, fleetUpgrade, parseFleetConfig } = await import('./fleet/command.ts');
      const { createFleetMetrics, serveFleetMetrics } = await import('./fleet/metrics.ts');
      if (argv.action === 'upgrade')
        return fleetUpgrade(argv as Record<string, unknown>).catch((error: unknown) =>
          fail(error instanceof AgentError ? error : new AgentError('WN_ERR_FLEET_BACKEND', (error as Error).message)),
        );
      let config;
      try {
        config = parseFleetConfig(argv as Record<string, unknown>, process.env);
      } catch (error) {
        if (error instanceof AgentError) fail(error);
        throw error;
      }
      const { logger, flush } = createLogger('info', { component: 'fleet', fleet: config.name });
      const controller = fleetController(config, logger);
      if (argv.action === 'status') {
        const snapshot = await controller
          .observe()
          .catch((error: unknown) =>
            fail(error instanceof AgentError ? error : new AgentError('WN_ERR_FLEET_BACKEND', (error as Error).message)),
          );
        process.stdout.write(fleetStatusScreen(snapshot));
        process.exit(0);
      }
      const stop = (signal: string): void => {
        // The controller stops; the workers go on (they drain only when asked, or when idle).
        logger.info({ event: 'fleet-stopping', signal }, 'fleet controller stopping; workers keep running');
        controller.stop();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      if (config.metricsListen) {
        const { host, port } = config.metricsListen;
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
      flush();
      process.exit(0);
    },
  )
  .fail((message, error) => {
    if (error) throw error;
    fail(new AgentError('WN_ERR_CONFIG', unknownArgumentMessage(message, runOptionNames())));
  })
  .help()
  .parseAsync()
  .catch((error: unknown) => {
    process.stderr.write(`wn-agent: internal error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(ExitCode.internal);
  });
