import { chmod, mkdir, rm } from 'node:fs/promises';
import https from 'node:https';
import http from 'node:http';
import type net from 'node:net';
import { dirname } from 'node:path';
import type { Registry } from 'prom-client';
import { parseDuration } from '../config/units.ts';
import { ownAddressMatcher } from './own-addresses.ts';
import type { AgentStatusBody } from '../contract/status-body.ts';
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
  /** A /v1 request on TCP came without the right token. */
  onAuthFailure?: (where: 'v1') => void;
  /** Which TCP peers are inside the container (jobs among them); default: loopback and the container's own addresses. */
  isOwnAddress?: ((address: string | undefined) => boolean) | undefined;
}

/**
 * The server's limits. Jobs share the container's network namespace, so 127.0.0.1:9680 is theirs to reach: a job
 * that opens many sockets, pipelines requests or never reads its answers must not keep the probes from being served.
 */
export const adminLimits = {
  /**
   * Connections at once on the TCP port (the local socket: `localConnections`); beyond them new ones are refused. A
   * bound on memory and descriptors, set high: whoever holds all of them keeps the probes out too.
   */
  connections: 512,
  localConnections: 64,
  /**
   * TCP connections from inside the container (loopback or its own addresses: where every job's come from), at most;
   * beyond them a new one from there is closed at once. The rest of `connections` stays for peers outside (the
   * kubelet's probes, Prometheus), so no number of sockets a job opens keeps those out.
   */
  inContainerConnections: 64,
  /** A connection that sends nothing or reads nothing for this long is closed. */
  idleMs: 10_000,
  /** /metrics is computed at most this often; requests in between share the last answer. */
  metricsMaxAgeMs: 1000,
} as const;

function send(res: http.ServerResponse, code: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  // One request per connection: a pipeline of requests behind this one is dropped with the socket, not queued.
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', connection: 'close' });
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
  private metricsCache: { at: number; text: Promise<string> } | undefined;
  /** TCP connections from inside the container closed at once because their quota was full. */
  refusedInContainer = 0;

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
      this.limitInContainer(server);
      this.servers.push(await this.listen(server, (s) => s.listen(listen.port, listen.host), false));
    }
    await mkdir(dirname(socketPath), { recursive: true });
    await rm(socketPath, { force: true });
    this.servers.push(await this.listen(http.createServer(), (s) => s.listen(socketPath), true));
    await chmod(socketPath, 0o600);
  }

  /** Connections from inside the container beyond their quota are closed as they arrive. */
  private limitInContainer(server: http.Server): void {
    const isOwn = this.options.isOwnAddress ?? ownAddressMatcher();
    let open = 0;
    server.on('connection', (socket: net.Socket) => {
      if (!isOwn(socket.remoteAddress)) return;
      if (open >= adminLimits.inContainerConnections) {
        this.refusedInContainer += 1;
        socket.destroy();
        return;
      }
      open += 1;
      socket.once('close', () => (open -= 1));
    });
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
    server.headersTimeout = adminLimits.idleMs;
    server.requestTimeout = adminLimits.idleMs;
    server.maxConnections = local ? adminLimits.localConnections : adminLimits.connections;
    server.keepAliveTimeout = 0;
    // A reader that takes nothing for this long (an answer stuck in its socket) loses the connection.
    server.setTimeout(adminLimits.idleMs, (socket) => socket.destroy());
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => resolve(server));
      bind(server);
    });
  }

  /** The metrics text, computed at most once per `metricsMaxAgeMs` and shared by the requests in between. */
  private metricsText(): Promise<string> {
    const now = Date.now();
    if (!this.metricsCache || now - this.metricsCache.at >= adminLimits.metricsMaxAgeMs) {
      const text = this.options.metrics.metrics();
      this.metricsCache = { at: now, text };
      text.catch(() => {
        if (this.metricsCache?.text === text) this.metricsCache = undefined; // a failure is not kept for a second
      });
    }
    return this.metricsCache.text;
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
      if (req.method === 'GET' && url.pathname === '/metrics') return send(res, 200, await this.metricsText(), metrics.contentType);
      if (url.pathname.startsWith('/v1/') && !trusted) {
        this.options.onAuthFailure?.('v1');
        return send(res, 401, { error: 'Unauthorized' });
      }
      if (req.method === 'GET' && url.pathname === '/v1/status') {
        const body: AgentStatusBody = {
          state: status.state,
          uptimeS: Math.round((Date.now() - status.startedAt) / 1000),
          advertised: status.advertised,
          masterRestarts: status.masterRestarts,
          counters: status.counters,
          idleRemainingMs: status.idleRemainingMs(),
          cvmfs: status.cvmfs(),
          health: status.health?.(),
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
        };
        return send(res, 200, body);
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
