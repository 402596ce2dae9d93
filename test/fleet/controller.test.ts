import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { BackendWorker, FleetBackend } from '../../agent/fleet/backend.ts';
import type { WorkerSpec } from '../../agent/fleet/spec.ts';
import type { AgentCall } from '../../agent/fleet/agent-call.ts';
import type { AgentStatusBody } from '../../agent/contract/status-body.ts';
import { FleetController } from '../../agent/fleet/controller.ts';

// An in-memory engine and in-memory agents (stand-ins named as such): the controller's cycle against them, step by
// step. The real engine and agents are in test/fleet/backend.int.test.ts.
class MemoryEngine implements FleetBackend {
  // The agent's side as the server's own body type has it: a field renamed there fails to compile here.
  workers = new Map<string, BackendWorker & { agent: Pick<AgentStatusBody, 'state' | 'advertised'> & { jobs: unknown[] } }>();
  private next = 0;
  async list(): Promise<BackendWorker[]> {
    return [...this.workers.values()].map(({ agent: _agent, ...w }) => w);
  }
  async start(_spec: WorkerSpec, hash: string): Promise<string> {
    const id = `c${++this.next}`;
    this.workers.set(id, {
      id,
      name: `f-${id}`,
      specHash: hash,
      running: true,
      address: id,
      startedAt: this.next,
      agent: { state: 'starting', advertised: false, jobs: [] },
    });
    return id;
  }
  async forget(id: string): Promise<void> {
    if (this.workers.get(id)?.running) throw new Error('forget of a running worker');
    this.workers.delete(id);
  }
  agentCall: AgentCall = async ({ address }, method, path) => {
    const w = this.workers.get(address);
    if (!w?.running) return undefined;
    if (method === 'POST' && path === '/v1/drain') {
      w.agent.state = 'draining';
      return { status: 202, body: { drain: 'accepted' } };
    }
    return { status: 200, body: w.agent };
  };
  /** The world moves on: started agents come up, draining ones finish their jobs and exit. */
  tick(jobsPerWorker: number, idle: { n: number }): void {
    for (const w of this.workers.values()) {
      if (!w.running) continue;
      if (w.agent.state === 'starting') Object.assign(w.agent, { state: 'running', advertised: true });
      else if (w.agent.state === 'draining') w.running = false;
      else if (w.agent.state === 'running' && idle.n > 0 && w.agent.jobs.length < jobsPerWorker) {
        const take = Math.min(idle.n, jobsPerWorker - w.agent.jobs.length);
        idle.n -= take;
        w.agent.jobs.push(...Array.from({ length: take }, () => ({})));
      }
    }
  }
}

const log = pino({ level: 'silent' });
const spec = (image: string): WorkerSpec => ({ image, env: {}, mounts: [], args: [] });

function controller(
  engine: MemoryEngine,
  idle: { n: number },
  image: { v: string },
  limits = { min: 0, max: 4, maxSurge: 1, maxUnavailable: 1, jobsPerWorker: 2 },
): FleetController {
  return new FleetController({
    backend: engine,
    spec: async () => spec(image.v),
    limits,
    demand: async () => idle.n,
    credentials: { key: 't'.repeat(20) },
    intervalMs: 10,
    log,
    agent: engine.agentCall,
  });
}

describe('FleetController against an in-memory engine and agents', () => {
  it('grows for 7 idle jobs to --max 4, then, the jobs done, drains every worker and forgets them', async () => {
    const engine = new MemoryEngine();
    const idle = { n: 7 };
    const fleet = controller(engine, idle, { v: 'img:1' });
    await fleet.cycle();
    expect(engine.workers.size).toBe(4);
    engine.tick(2, idle); // agents up
    engine.tick(2, idle); // jobs taken
    expect(idle.n).toBe(0);
    for (const w of engine.workers.values()) w.agent.jobs = []; // jobs done
    for (let i = 0; i < 12 && engine.workers.size > 0; i++) {
      await fleet.cycle();
      const draining = [...engine.workers.values()].filter((w) => w.running && w.agent.state === 'draining').length;
      expect(draining).toBeLessThanOrEqual(1);
      engine.tick(2, idle);
    }
    expect(engine.workers.size).toBe(0);
    expect(fleet.counters).toMatchObject({ started: 4, drained: 4, forgotten: 4 });
  });

  it('a new image rolls out without draining more than --max-unavailable, and a restarted controller finishes it', async () => {
    const engine = new MemoryEngine();
    const idle = { n: 6 };
    const image = { v: 'img:1' };
    let fleet = controller(engine, idle, image);
    await fleet.cycle();
    engine.tick(2, idle);
    engine.tick(2, idle);
    const oldIds = new Set(engine.workers.keys());
    expect(oldIds.size).toBe(3);
    image.v = 'img:2';
    idle.n = 2; // steady demand while the upgrade runs
    for (let i = 0; i < 40 && [...engine.workers.values()].some((w) => oldIds.has(w.id)); i++) {
      if (i === 3) fleet = controller(engine, idle, image); // the controller killed and started again
      await fleet.cycle();
      const draining = [...engine.workers.values()].filter((w) => w.running && w.agent.state === 'draining').length;
      expect(draining).toBeLessThanOrEqual(1);
      engine.tick(2, idle);
    }
    expect([...engine.workers.keys()].filter((id) => oldIds.has(id))).toEqual([]);
    expect([...engine.workers.values()].every((w) => w.specHash !== [...oldIds][0])).toBe(true);
  });
});

describe('FleetController sizing', () => {
  it("counts a worker of the spec's N CPUs as N job slots", async () => {
    const engine = new MemoryEngine();
    const fleet = new FleetController({
      backend: engine,
      spec: async () => ({ ...spec('img:1'), cpus: 4 }),
      limits: { min: 0, max: 10, maxSurge: 1, maxUnavailable: 1, jobsPerWorker: 1 },
      demand: async () => 8,
      credentials: { key: 't'.repeat(20) },
      intervalMs: 10,
      log,
      agent: engine.agentCall,
    });
    expect((await fleet.cycle()).plan.start).toBe(2);
  });
});

describe("FleetController and the workers' credentials", () => {
  it("starts workers with the fleet's credentials and reads and drains each one by its name, the way it was started", async () => {
    const credentials = { key: 'k'.repeat(20), tls: { cert: Buffer.from('c'), key: Buffer.from('k'), ca: Buffer.from('a') } };
    const started: unknown[] = [];
    const asked: string[] = [];
    const fleet = new FleetController({
      backend: {
        list: async () => [
          { id: '1', name: 'f-old', specHash: 'old', running: true, address: '10.0.0.1', tls: false, startedAt: 1 },
          { id: '2', name: 'f-new', specHash: 'x', running: true, address: '10.0.0.2', tls: true, startedAt: 2 },
        ],
        start: async (_spec, _hash, given) => {
          started.push(given);
          return 'c';
        },
        forget: async () => undefined,
      },
      spec: async () => spec('img:1'),
      limits: { min: 2, max: 2, maxSurge: 1, maxUnavailable: 1, jobsPerWorker: 1 },
      demand: async () => 0,
      credentials,
      intervalMs: 10,
      log,
      agent: async (worker, method, path) => {
        asked.push(`${method} ${path} ${worker.name} ${worker.address} ${worker.tls ? 'https' : 'http'}`);
        return { status: 200, body: { state: 'running', advertised: true, jobs: [] } satisfies Partial<AgentStatusBody> };
      },
    });
    const snapshot = await fleet.cycle();
    expect(snapshot.plan).toMatchObject({ start: 1, drain: ['1'] }); // both outdated: a new one comes, the older one drains
    expect(started[0]).toBe(credentials);
    expect(asked).toEqual(
      expect.arrayContaining([
        'GET /v1/status f-old 10.0.0.1 http',
        'GET /v1/status f-new 10.0.0.2 https',
        'POST /v1/drain f-old 10.0.0.1 http',
      ]),
    );
  });
});
