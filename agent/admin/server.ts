import { chmod, mkdir, rm } from 'node:fs/promises';
import https from 'node:https';
import http from 'node:http';
import { dirname } from 'node:path';
import type { Registry } from 'prom-client';
import { parseDuration } from '../config/units.ts';
import { readiness, type AgentStatus } from './status.ts';
import { presentedToken, tokenMatches, type EventStream } from './events-ws.ts';

export interface AdminServerOptions {
  listen: { host: string; port: number } | undefined;
  socketPath: string;
  status: AgentStatus;
  metrics: Registry;
  /** POST /v1/drain: returns "accepted" or "hurried". */
  onDrain: (timeoutMs: number | undefined) => 'accepted' | 'hurried';
  /** The websocket at /v1/events; also enables token-authenticated /v1/status and /v1/drain on TCP. */
  events?: EventStream | undefined;
  token?: string | undefined;
  /** PEM contents (read at start, before the key's file is hidden from jobs). */
  tls?: { cert: Buffer; key: Buffer } | undefined;
}

function send(res: http.ServerResponse, code: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * The agent's HTTP side. On TCP (--admin-listen): GET /healthz, /readyz, /metrics, for probes and scrapers,
 * unauthenticated and read-only; with an admin token also GET /v1/status, POST /v1/drain and the /v1/events
 * websocket, each for that bearer token only. On the local socket (root only): the same, /v1/* without a token,
 * which `wn-agent status` and `wn-agent drain` use inside the container.
 */
export class AdminServer {
  private readonly servers: http.Server[] = [];
  private closed = false;

  constructor(private readonly options: AdminServerOptions) {}

  async start(): Promise<void> {
    const { listen, socketPath } = this.options;
    if (listen) {
      const tls = this.options.tls;
      const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }) : http.createServer();
      server.on('upgrade', (req, socket, head: Buffer) => {
        if (this.options.events) this.options.events.handleUpgrade(req, socket, head);
        else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      });
      this.servers.push(await this.listen(server, (s) => s.listen(listen.port, listen.host), false));
    }
    await mkdir(dirname(socketPath), { recursive: true });
    await rm(socketPath, { force: true });
    this.servers.push(await this.listen(http.createServer(), (s) => s.listen(socketPath), true));
    await chmod(socketPath, 0o600);
  }

  /** The TCP port actually bound (for --admin-listen with port 0). */
  get port(): number | undefined {
    const address = this.servers[0]?.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.options.events?.close();
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    await rm(this.options.socketPath, { force: true });
  }

  private listen(server: http.Server, bind: (server: http.Server) => void, local: boolean): Promise<http.Server> {
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res, local));
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => resolve(server));
      bind(server);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, local: boolean): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    const { status, metrics, token } = this.options;
    // The local socket is root's alone; on TCP the control endpoints need the admin token.
    const trusted = local || (token !== undefined && tokenMatches(presentedToken(req, url), token));
    try {
      if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, { status: 'alive', state: status.state });
      if (req.method === 'GET' && url.pathname === '/readyz') {
        const ready = await readiness(status);
        return send(res, ready.ready ? 200 : 503, { ready: ready.ready, state: status.state, reasons: ready.reasons });
      }
      if (req.method === 'GET' && url.pathname === '/metrics') return send(res, 200, await metrics.metrics(), metrics.contentType);
      if (url.pathname.startsWith('/v1/') && !trusted) return send(res, 401, { error: 'Unauthorized' });
      if (req.method === 'GET' && url.pathname === '/v1/status') {
        return send(res, 200, {
          state: status.state,
          uptimeS: Math.round((Date.now() - status.startedAt) / 1000),
          advertised: status.advertised,
          masterRestarts: status.masterRestarts,
          counters: status.counters,
          idleRemainingMs: status.idleRemainingMs(),
          cvmfs: status.cvmfs(),
          drainRemainingMs: status.drainDeadline === undefined ? undefined : Math.max(0, status.drainDeadline - Date.now()),
          slots: await status.slots(),
          host: await status.host?.(),
          jobs: await Promise.all(
            status.jobs().map(async ({ slot, cgroup, jobId, limits, verified, placedAt }) => ({
              slot,
              cgroup,
              jobId,
              limits,
              verified,
              runningS: Math.round((Date.now() - placedAt) / 1000),
              memoryBytes: await status.jobMemoryBytes(cgroup),
            })),
          ),
        });
      }
      if (req.method === 'POST' && url.pathname === '/v1/drain') {
        const raw = url.searchParams.get('timeout');
        const timeoutMs = raw === null ? undefined : parseDuration(raw);
        if (raw !== null && timeoutMs === undefined)
          return send(res, 400, { error: `timeout: expected a duration such as 10m, got ${JSON.stringify(raw)}` });
        return send(res, 202, { drain: this.options.onDrain(timeoutMs) });
      }
      return send(res, 404, { error: `no ${req.method ?? ''} ${url.pathname}` });
    } catch (error) {
      return send(res, 500, { error: (error as Error).message });
    }
  }
}
