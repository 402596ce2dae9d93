import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { DockerBackend } from '../../agent/fleet/docker-backend.ts';
import { type WorkerSpec } from '../../agent/fleet/spec.ts';
import { httpAgentCall } from '../../agent/fleet/agent-call.ts';
import { DockerApi } from '../../agent/fleet/docker.ts';
import { waitFor } from '../../agent/util/wait.ts';
import { containersConf, image, podman, run } from './exec.ts';
import { testPool, type TestPool } from './pool.ts';

/**
 * A fleet under test: podman's Docker Engine API (`podman system service`) on a socket of its own, and
 * `wn-agent fleet run` in a container of the image (it needs condor_q and classad_eval) with that socket mounted,
 * a spec file in a directory it reads (and `fleet upgrade` writes), the fleet's key and a client configuration
 * reaching the pool. Its workers are real containers that join the real pool.
 */
export class TestFleet {
  readonly tag = randomBytes(2).toString('hex');
  readonly name: string;
  readonly dir: string;
  readonly socket: string;
  readonly controller: string;
  readonly backend: DockerBackend;
  /** The fleet's key (--admin-token-file): each worker's admin token is derived from it and the worker's name. */
  token = '';
  private service: ChildProcess | undefined;

  /**
   * `engineSocket`: a Docker Engine API already served there (a real dockerd) instead of podman's, started here;
   * its workers are then removed with Debian's docker CLI.
   */
  constructor(
    prefix: string,
    readonly pool: TestPool = testPool,
    private readonly options: { engineSocket?: string } = {},
  ) {
    this.name = `${prefix}${this.tag}`;
    this.dir = `/var/tmp/wn-fleet-${this.name}`;
    this.socket = options.engineSocket ?? `${this.dir}/engine.sock`;
    this.controller = `wn-it-fleet-${this.name}`;
    this.backend = new DockerBackend(new DockerApi(this.socket), this.name);
  }

  /** A spec of the test image on the pool's network, with HTCondor's test speed-ups; `extra` overrides. */
  spec({ env, ...rest }: Partial<WorkerSpec> = {}): WorkerSpec {
    const { pool } = this;
    return {
      image,
      mounts: [pool.passwordMount, pool.testConfigMount],
      network: pool.network,
      cpus: 1,
      args: [],
      ...rest,
      env: { CONDOR_HOST: pool.cm, WN_IDLE_TIMEOUT: '5m', ...env },
    };
  }

  async up(spec: WorkerSpec, controllerArgs: readonly string[]): Promise<void> {
    const { pool } = this;
    await mkdir(this.dir, { recursive: true });
    if (this.options.engineSocket === undefined)
      this.service = spawn('podman', ['system', 'service', '--time=0', `unix://${this.socket}`], {
        env: { ...process.env, CONTAINERS_CONF: containersConf },
        stdio: 'ignore',
      });
    await waitFor(
      async () => ((await new DockerApi(this.socket).request('GET', '/_ping').catch(() => undefined))?.status === 200 ? true : undefined),
      {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: 'podman system service answering',
      },
    );
    // The controller reads only a spec that root owns and no one else can write, whatever this process's umask.
    await writeFile(`${this.dir}/fleet.json`, JSON.stringify(spec), { mode: 0o644 });
    await chmod(`${this.dir}/fleet.json`, 0o644);
    this.token = `fleet-token-${randomBytes(8).toString('hex')}`;
    await writeFile(`${this.dir}/token`, `${this.token}\n`, { mode: 0o600 });
    await writeFile(
      `${this.dir}/condor_config`,
      [
        `CONDOR_HOST = ${pool.cm}`,
        'use SECURITY: recommended_v9_0',
        'SEC_DEFAULT_AUTHENTICATION_METHODS = PASSWORD, IDTOKENS',
        'SEC_PASSWORD_FILE = /etc/condor/passwords.d/POOL',
        'UID_DOMAIN = wn.test',
        'TRUST_DOMAIN = wn.test',
        'LOG = /tmp',
        '',
      ].join('\n'),
    );
    await podman([
      'run',
      '-d',
      '--name',
      this.controller,
      '--network',
      pool.network,
      '--label',
      `wn-pool=${pool.name}`,
      '-v',
      `${this.socket}:/run/podman/podman.sock`,
      '-v',
      `${this.dir}:/etc/wn-fleet`,
      '-v',
      `${pool.secretDir}/POOL:/etc/condor/passwords.d/POOL:ro`,
      '--entrypoint',
      '/usr/bin/tini',
      image,
      '--',
      'wn-agent',
      'fleet',
      'run',
      '--name',
      this.name,
      '--spec',
      '/etc/wn-fleet/fleet.json',
      '--admin-token-file',
      '/etc/wn-fleet/token',
      '--condor-config',
      '/etc/wn-fleet/condor_config',
      ...controllerArgs,
    ]);
  }

  async down(): Promise<void> {
    await podman(['rm', '-f', this.controller]).catch(() => undefined);
    for (const w of await this.backend.list().catch(() => []))
      if (this.options.engineSocket === undefined) await podman(['rm', '-f', w.id]).catch(() => undefined);
      else await run('/usr/bin/docker', ['-H', `unix://${this.socket}`, 'rm', '-f', w.id]);
    this.service?.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The controller's stdout as JSON events (across its restarts: podman logs keeps them all). */
  async events(): Promise<Record<string, unknown>[]> {
    const { stdout } = await run('podman', ['logs', this.controller]);
    return stdout.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** Waits for the controller's first observation; a cycle that failed instead ends the wait with its error. */
  async observing(): Promise<void> {
    await waitFor(
      async () => {
        const events = await this.events();
        if (events.some((e) => e.event === 'fleet-observed')) return true;
        const failed = events.filter((e) => e.event === 'fleet-cycle-failed').at(-1);
        if (failed) throw new Error(String(failed.error));
        return undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'the controller observing' },
    );
  }

  /** The controller's /metrics, read from inside its container. */
  metrics(): Promise<string> {
    return podman([
      'exec',
      this.controller,
      'node',
      '-e',
      'fetch("http://127.0.0.1:9681/metrics").then((r) => r.text()).then((t) => console.log(t))',
    ]);
  }

  /**
   * A worker's state as its own agent tells it (GET /v1/status with that worker's token, derived from the fleet's key
   * and its name as the controller derives it), or undefined when it does not answer.
   */
  async agentState(worker: { name: string; address: string }): Promise<string | undefined> {
    const answer = await httpAgentCall({ key: this.token })(worker, 'GET', '/v1/status');
    return answer?.status === 200 ? (answer.body as { state?: string } | undefined)?.state : undefined;
  }
}
