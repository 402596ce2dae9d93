import { mkdtemp, stat } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../agent/admin/metrics.ts';
import { ownAddressMatcher } from '../../agent/admin/own-addresses.ts';
import { AdminServer } from '../../agent/admin/server.ts';
import type { AgentStatus } from '../../agent/admin/status.ts';

const token = 'an-admin-token-of-32-characters!';

function agentStatus(overrides: Partial<AgentStatus> = {}): AgentStatus {
  return {
    state: 'running',
    startedAt: Date.now() - 5000,
    advertised: true,
    masterRestarts: 0,
    counters: {
      jobsStarted: 1,
      jobsFinished: 0,
      oomKills: 0,
      jobsVacated: 0,
      adminAuthFailures: 0,
      jobEnds: { success: 3, failure: 1, interrupted: 0 },
    },
    cvmfs: () => [{ repo: 'atlas.cern.ch', required: true, healthy: true }],
    jobs: () => [
      {
        slot: 'slot1_1',
        cgroup: 'jobs/slot1_1',
        starterPid: 42,
        jobId: '7.0',
        limits: { cpuWeight: 100, memoryBytes: 1 << 30 },
        verified: true,
        placedAt: Date.now() - 2000,
      },
    ],
    idleRemainingMs: () => undefined,
    slots: async () => [],
    jobMemoryBytes: async () => 12345,
    ...overrides,
  };
}

let server: AdminServer | undefined;
const drains: (number | undefined)[] = [];
const authFailures: string[] = [];

async function start(status: AgentStatus, withToken = true, metrics = new Registry()): Promise<{ port: number; socketPath: string }> {
  const socketPath = join(await mkdtemp(join(tmpdir(), 'wn-admin-')), 'admin.sock');
  server = new AdminServer({
    listen: { host: '127.0.0.1', port: 0 },
    socketPath,
    status,
    metrics,
    onDrain: (timeoutMs) => {
      drains.push(timeoutMs);
      return 'accepted';
    },
    token: withToken ? token : undefined,
    onAuthFailure: (where) => authFailures.push(where),
  });
  await server.start();
  return { port: server.port ?? 0, socketPath };
}

function request(
  target: { port: number } | { socketPath: string },
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        ...('port' in target ? { host: '127.0.0.1', port: target.port } : { socketPath: target.socketPath }),
        method,
        path,
        headers,
        agent: false, // the server closes every connection after its answer: none is kept for reuse
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text } }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

afterEach(async () => {
  await server?.close();
  drains.length = 0;
  authFailures.length = 0;
});

describe('AdminServer', () => {
  it('answers /healthz, and /readyz with its reasons, without a token', async () => {
    const tcp = await start(agentStatus({ advertised: false }));
    expect(await request(tcp, 'GET', '/healthz')).toEqual({ status: 200, body: { status: 'alive', state: 'running' } });
    const ready = await request(tcp, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.reasons).toEqual(['the startd is not advertised in the collector']);
  });

  it('serves /v1/status on TCP only for the bearer token, and on the root-only socket without one', async () => {
    const { port, socketPath } = await start(agentStatus());
    expect((await request({ port }, 'GET', '/v1/status')).status).toBe(401);
    expect((await request({ port }, 'GET', '/v1/status', { authorization: 'Bearer not-the-token-not-the-token-xx' })).status).toBe(401);
    const withToken = await request({ port }, 'GET', '/v1/status', { authorization: `Bearer ${token}` });
    expect(withToken.status).toBe(200);
    expect(withToken.body).toMatchObject({
      state: 'running',
      advertised: true,
      jobs: [{ jobId: '7.0', memoryBytes: 12345, verified: true }],
    });
    expect((await request({ socketPath }, 'GET', '/v1/status')).status).toBe(200);
    expect((await stat(socketPath)).mode & 0o777).toBe(0o600);
    // The two refusals on TCP were counted (the agent turns them into a metric and a line a minute); the rest not.
    expect(authFailures).toEqual(['v1', 'v1']);
  });

  it('serves the health checks in /v1/status, and a failing one as a /readyz reason', async () => {
    const health = {
      healthy: false,
      checks: [
        { name: '20-software', ok: false, reason: 'exit 1: missing', lastRunAt: '2026-01-02T03:04:05.000Z', durationMs: 9, failures: 1 },
      ],
    };
    const { port, socketPath } = await start(agentStatus({ health: () => health }));
    expect((await request({ socketPath }, 'GET', '/v1/status')).body.health).toEqual(health);
    const ready = await request({ port }, 'GET', '/readyz');
    expect(ready).toMatchObject({ status: 503, body: { reasons: ['health check 20-software fails: exit 1: missing'] } });
  });

  it('refuses every /v1 call on TCP when no token is configured', async () => {
    const tcp = await start(agentStatus(), false);
    expect((await request(tcp, 'GET', '/v1/status', { authorization: 'Bearer anything' })).status).toBe(401);
    expect((await request(tcp, 'POST', '/v1/drain')).status).toBe(401);
    expect(drains).toEqual([]);
  });

  it('takes a drain with an optional timeout, and names a bad one', async () => {
    const { socketPath } = await start(agentStatus());
    expect(await request({ socketPath }, 'POST', '/v1/drain?timeout=soon')).toMatchObject({
      status: 400,
      body: { error: expect.stringContaining('timeout: expected a duration') },
    });
    expect(await request({ socketPath }, 'POST', '/v1/drain?timeout=10m')).toEqual({ status: 202, body: { drain: 'accepted' } });
    expect(await request({ socketPath }, 'POST', '/v1/drain')).toEqual({ status: 202, body: { drain: 'accepted' } });
    expect(drains).toEqual([600_000, undefined]);
  });

  it('answers 404 for what it does not serve and 500 (not a crash) when reading the status fails', async () => {
    const { socketPath } = await start(agentStatus({ slots: () => Promise.reject(new Error('startd unreachable')) }));
    expect((await request({ socketPath }, 'GET', '/v2/anything')).status).toBe(404);
    expect(await request({ socketPath }, 'GET', '/v1/status')).toEqual({ status: 500, body: { error: 'startd unreachable' } });
    expect((await request({ socketPath }, 'GET', '/healthz')).status).toBe(200); // still serving
  });
});

/** Raw bytes to the port and everything that comes back until the server closes the connection. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    socket.on('data', (chunk: Buffer) => (got += chunk.toString()));
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
  });
}

describe('AdminServer under a flood (a job reaches 127.0.0.1:9680)', () => {
  it('answers one request per connection and closes it: a pipeline behind it is not served', async () => {
    const { port } = await start(agentStatus());
    const answer = await raw(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(50));
    expect(answer.match(/HTTP\/1\.1 200/g)).toHaveLength(1);
    expect(answer).toMatch(/^connection: close$/im);
  });

  it('computes /metrics at most once a second, whatever the number of requests', async () => {
    const registry = new Registry();
    let collected = 0;
    new Gauge({
      name: 'test_collections',
      help: 'how often the registry was asked',
      registers: [registry],
      collect: () => void (collected += 1),
    });
    const { port } = await start(agentStatus(), true, registry);
    const answers = await Promise.all(Array.from({ length: 50 }, () => request({ port }, 'GET', '/metrics')));
    expect(answers.every((a) => a.status === 200 && String(a.body.text).includes('test_collections'))).toBe(true);
    expect(collected).toBe(1);
  });

  it('while 20 connections pipeline 500 /metrics each and 20 never read, every /healthz probe is answered within a probe deadline', async () => {
    // The agent's own metrics (Node's default ones included): what a flood of /metrics costs for real.
    const { port } = await start(agentStatus(), true, createMetrics(agentStatus(), { version: 'test', revision: 'test' }));
    const flood = Array.from({ length: 20 }, () => raw(port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(500)));
    const silent = Array.from({ length: 20 }, () =>
      net.connect(port, '127.0.0.1', function (this: net.Socket) {
        this.pause(); // never reads its answers
        this.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
      }),
    );
    const probe = (): Promise<number> =>
      new Promise((resolve) => {
        // A fresh connection per probe, as the kubelet makes them.
        const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('timeout', () => {
          req.destroy();
          resolve(0);
        });
        req.on('error', () => resolve(0));
      });
    const probes: number[] = [];
    for (let i = 0; i < 10; i++) probes.push(await probe()); // the kubelet's default: 1 s per probe
    expect(probes).toEqual(Array(10).fill(200));
    await Promise.all(flood);
    for (const socket of silent) socket.destroy();
  });

  it('however many sockets a job opens from inside the container, a probe from outside is answered', async () => {
    // Here 127.0.0.1 stands for the container's inside (where a job connects from) and ::1 for the kubelet outside.
    const socketPath = join(await mkdtemp(join(tmpdir(), 'wn-admin-')), 'admin.sock');
    server = new AdminServer({
      listen: { host: '::', port: 0 },
      socketPath,
      status: agentStatus(),
      metrics: new Registry(),
      onDrain: () => 'accepted',
      isOwnAddress: (address) => address?.endsWith('127.0.0.1') === true,
    });
    await server.start();
    const port = server.port ?? 0;
    const held = await Promise.all(
      Array.from(
        { length: 600 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
            socket.on('error', () => resolve(socket));
          }),
      ),
    );
    const probe = await new Promise<number>((resolve) => {
      const req = http.get({ host: '::1', port, path: '/healthz', timeout: 1000, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('timeout', () => {
        req.destroy();
        resolve(0);
      });
      req.on('error', () => resolve(0));
    });
    expect(probe).toBe(200);
    expect(server.refusedInContainer).toBeGreaterThanOrEqual(600 - 64);
    for (const socket of held) socket.destroy();
  });
});

describe('which peers are inside the container', () => {
  it('loopback (all of 127/8, ::1, mapped) and its own interface addresses; not a peer outside', () => {
    const isOwn = ownAddressMatcher({
      eth0: [{ address: '10.89.0.5', netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: null }],
    });
    for (const address of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1', '10.89.0.5', '::ffff:10.89.0.5'])
      expect(isOwn(address)).toBe(true);
    for (const address of ['10.89.0.1', '192.168.1.20', 'fe80::1']) expect(isOwn(address)).toBe(false);
  });
});
