import { randomBytes } from 'node:crypto';
import { waitFor } from '../../agent/util/wait.ts';
import { check, image as defaultImage, podman, repoRoot, run, type Result } from './exec.ts';

/**
 * The real local pool (scripts/pool.sh) as tests see it: a central manager + schedd container configured the
 * ordinary way, and worker containers of the built image joined to it.
 */
export class TestPool {
  readonly network: string;
  readonly cm: string;
  readonly secretDir: string;

  constructor(readonly name: string) {
    this.network = `wn-${name}`;
    this.cm = `wn-${name}-cm`;
    this.secretDir = `/var/tmp/wn-pool-${name}`;
  }

  up(): Promise<string> {
    return check('bash', [`${repoRoot}scripts/pool.sh`, 'up', this.name], { timeoutMs: 180_000 });
  }

  down(): Promise<string> {
    return check('bash', [`${repoRoot}scripts/pool.sh`, 'down', this.name], { timeoutMs: 180_000 });
  }

  /** The pool password where a worker looks for it. */
  get passwordMount(): string {
    return `${this.secretDir}/POOL:/etc/condor/passwords-orig.d/POOL:ro`;
  }

  /** HTCondor's own test speed-ups (scripts/pool/worker-test.conf) as a site config file. */
  get testConfigMount(): string {
    return `${repoRoot}scripts/pool/worker-test.conf:/etc/wn-agent/condor.d/50-test.conf:ro`;
  }

  /** Runs a command in the central manager container, as root or as the pool's unprivileged submitter. */
  exec(args: readonly string[], { user, input }: { user?: string; input?: string } = {}): Promise<string> {
    return podman(
      ['exec', ...(input === undefined ? [] : ['-i']), ...(user ? ['-u', user, '-w', `/home/${user}`] : []), this.cm, ...args],
      {
        ...(input === undefined ? {} : { input }),
      },
    );
  }

  /** condor_status -af ... over slot ads, one array per slot. */
  async status(constraint: string, attrs: readonly string[]): Promise<string[][]> {
    const out = await this.exec(['condor_status', '-constraint', constraint, '-af:t', ...attrs]);
    return rows(out);
  }

  async history(constraint: string, attrs: readonly string[]): Promise<string[][]> {
    const out = await this.exec(['condor_history', '-constraint', constraint, '-af:t', ...attrs]);
    return rows(out);
  }

  /** Writes files into the submitter's home and submits as that (non-root) user; returns the cluster ID. */
  async submit(
    submitFile: string,
    files: Record<string, { text: string; mode?: string }> = {},
    { user = 'submitter' }: { user?: string } = {},
  ): Promise<number> {
    for (const [name, file] of Object.entries(files)) {
      await this.exec(['sh', '-c', `cat > ${name} && chmod ${file.mode ?? '0644'} ${name}`], { user, input: file.text });
    }
    const out = await this.exec(['condor_submit', '-terse', '-'], { user, input: submitFile });
    const cluster = /^(\d+)\./.exec(out.trim())?.[1];
    if (!cluster) throw new Error(`condor_submit printed no cluster: ${out}`);
    return Number(cluster);
  }

  /** Waits until every job of the cluster is in the history (completed or removed) and returns the asked attributes. */
  waitForHistory(cluster: number, count: number, attrs: readonly string[], timeoutMs = 180_000): Promise<string[][]> {
    return waitFor(
      async () => {
        const done = await this.history(`ClusterId == ${cluster}`, attrs);
        return done.length >= count ? done : undefined;
      },
      { timeoutMs, intervalMs: 1000, what: `cluster ${cluster} in condor_history` },
    );
  }

  /** A second (third ...) ordinary user of the access point, made once. */
  async ensureUser(name: string): Promise<void> {
    await this.exec(['sh', '-c', `id ${name} >/dev/null 2>&1 || useradd -m ${name}`]);
  }

  /** condor_q -af over every user's jobs of a cluster, once `constraint` holds for `count` of them. */
  waitForQueue(cluster: number, constraint: string, attrs: readonly string[], count = 1, timeoutMs = 180_000): Promise<string[][]> {
    return waitFor(
      async () => {
        const out = await this.exec([
          'condor_q',
          '-allusers',
          '-constraint',
          `ClusterId == ${cluster} && (${constraint})`,
          '-af:t',
          ...attrs,
        ]);
        const found = rows(out);
        return found.length >= count ? found : undefined;
      },
      { timeoutMs, intervalMs: 1000, what: `cluster ${cluster} in condor_q with ${constraint}` },
    );
  }

  /** How many of a cluster's jobs (any user's) are in condor_q with this constraint now. */
  async countInQueue(cluster: number, constraint: string): Promise<number> {
    const out = await this.exec(['condor_q', '-allusers', '-constraint', `ClusterId == ${cluster} && (${constraint})`, '-af', 'ProcId']);
    return out.trim().split('\n').filter(Boolean).length;
  }

  /** Starts a worker from the built image on the pool's network; returns its container name. */
  async startWorker(options: WorkerOptions = {}): Promise<Worker> {
    const name = options.name ?? `wn-${this.name}-w-${randomBytes(3).toString('hex')}`;
    const env = { CONDOR_HOST: this.cm, ...options.env };
    const mounts = options.mounts ?? [this.passwordMount];
    await podman([
      'run',
      '-d',
      ...(options.privileged === false ? [] : ['--privileged']),
      '--name',
      name,
      '--hostname',
      options.hostname ?? name,
      '--network',
      this.network,
      '--label',
      `wn-pool=${this.name}`,
      ...Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]),
      ...mounts.flatMap((mount) => ['-v', mount]),
      ...(options.podmanArgs ?? []),
      options.image ?? defaultImage,
      'run',
      ...(options.agentArgs ?? []),
    ]);
    return new Worker(name);
  }
}

export interface WorkerOptions {
  name?: string;
  hostname?: string;
  env?: Record<string, string>;
  /** podman -v specs; default: the pool password at /etc/condor/passwords-orig.d/POOL and nothing else. */
  mounts?: string[];
  agentArgs?: string[];
  /** Extra podman run arguments (limits, ...). */
  podmanArgs?: string[];
  /** Default true; false starts it with only what podmanArgs grant (capabilities, devices, mounts). */
  privileged?: boolean;
  /** Default: localhost/wn-agent:dev. */
  image?: string;
}

export class Worker {
  constructor(readonly name: string) {}

  logs(): Promise<Result> {
    return run('podman', ['logs', this.name]);
  }

  /** The agent's stdout as parsed JSON lines (every line must be JSON: that is what a log store ingests). */
  async jsonLogs(): Promise<Record<string, unknown>[]> {
    const { stdout } = await this.logs();
    return stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Waits for the container to stop on its own and returns its exit code. */
  async waitExit(timeoutMs = 120_000): Promise<number> {
    const out = await check('podman', ['wait', this.name], { timeoutMs });
    return Number(out.trim());
  }

  stop(timeoutS = 60): Promise<string> {
    return podman(['stop', '-t', String(timeoutS), this.name], { timeoutMs: (timeoutS + 30) * 1000 });
  }

  exec(args: readonly string[]): Promise<string> {
    return podman(['exec', this.name, ...args]);
  }

  /** The runtime's full container ID, as `podman inspect` reports it. */
  async id(): Promise<string> {
    return (await podman(['inspect', '-f', '{{.Id}}', this.name])).trim();
  }

  /** Waits for an agent event (a JSON line with this `event`) on the worker's stdout. */
  waitForEvent(
    event: string,
    match: (line: Record<string, unknown>) => boolean = () => true,
    timeoutMs = 60_000,
  ): Promise<Record<string, unknown>> {
    return waitFor(async () => (await this.jsonLogs()).find((line) => line.event === event && match(line)), {
      timeoutMs,
      intervalMs: 500,
      what: `event ${event} from ${this.name}`,
    });
  }

  remove(): Promise<Result> {
    return run('podman', ['rm', '-f', '-t', '5', this.name]);
  }
}

function rows(out: string): string[][] {
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.split('\t'));
}

/** The one pool the integration tests share; global-setup starts it, named so it cannot collide with the demo. */
export const testPool = new TestPool(process.env.WN_TEST_POOL ?? 'it');
