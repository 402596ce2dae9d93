import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventHub } from '../events/hub.ts';
import { matches, severities, type EventFilter, type Severity } from '../events/model.ts';

/** Close codes a client may see (README: "Event stream"). */
export const closeCodes = {
  goingAway: 1001,
  /** The client did not read fast enough: its unsent backlog passed the limit. */
  slowConsumer: 4008,
  /** No pong within two heartbeats. */
  heartbeatLost: 4009,
} as const;

export interface EventStreamOptions {
  token: string;
  maxClients: number;
  /** Bytes a client may have unsent before it is cut off. */
  maxBufferedBytes: number;
  heartbeatMs: number;
  /** A client came without the right token (counted and logged by the caller, never the token itself). */
  onAuthFailure?: (where: 'events') => void;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Compares in constant time (hashes first, so lengths do not leak either). */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

/** Bearer header, websocket subprotocol pair "bearer, <token>", or ?token= (browsers cannot set headers). */
export function presentedToken(req: http.IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (header?.toLowerCase().startsWith('bearer ')) return header.slice(7).trim();
  const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const at = protocols.findIndex((p) => p.toLowerCase() === 'bearer');
  if (at >= 0 && protocols[at + 1]) return protocols[at + 1];
  return url.searchParams.get('token') ?? undefined;
}

export function parseFilter(url: URL): EventFilter | string {
  const filter: EventFilter = {};
  const list = (name: string): Set<string> | undefined => {
    const value = url.searchParams.get(name);
    return value
      ? new Set(
          value
            .split(',')
            .map((v) => v.trim())
            .filter(Boolean),
        )
      : undefined;
  };
  const types = list('type');
  if (types) filter.types = types;
  const daemons = list('daemon');
  if (daemons) filter.daemons = daemons;
  const severity = url.searchParams.get('severity');
  if (severity !== null) {
    if (!(severities as readonly string[]).includes(severity))
      return `severity: expected one of ${severities.join(', ')}, got ${JSON.stringify(severity)}`;
    filter.minSeverity = severity as Severity;
  }
  return filter;
}

function reject(socket: Duplex, status: number, reason: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify({ error: reason })}\n`,
  );
}

/**
 * /v1/events: the live event stream. Replays from the backlog (?since=<seq>), filters by type, severity and daemon,
 * pings every heartbeat and drops clients that stop answering or stop reading, so memory cannot grow with them.
 */
export class EventStream {
  private readonly wss: WebSocketServer;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly alive = new WeakMap<WebSocket, boolean>();

  constructor(
    private readonly hub: EventHub,
    private readonly options: EventStreamOptions,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: 4096, // clients only answer pings; nothing large ever comes in
      handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false),
    });
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  get clients(): number {
    return this.wss.clients.size;
  }

  /** Called from the HTTP server's 'upgrade' event. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://agent');
    if (url.pathname !== '/v1/events') return reject(socket, 404, 'Not Found');
    if (!tokenMatches(presentedToken(req, url), this.options.token)) {
      this.options.onAuthFailure?.('events');
      return reject(socket, 401, 'Unauthorized');
    }
    if (this.wss.clients.size >= this.options.maxClients) return reject(socket, 503, 'Too Many Clients');
    const filter = parseFilter(url);
    if (typeof filter === 'string') return reject(socket, 400, filter);
    const sinceText = url.searchParams.get('since');
    const since = sinceText === null ? undefined : Number(sinceText);
    if (since !== undefined && !(Number.isInteger(since) && since >= 0)) return reject(socket, 400, 'since: expected a sequence number');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, filter, since));
  }

  private serve(ws: WebSocket, filter: EventFilter, since: number | undefined): void {
    this.alive.set(ws, true);
    ws.on('pong', () => this.alive.set(ws, true));
    ws.on('error', () => ws.terminate());
    const send = (payload: unknown, json?: string): void => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > this.options.maxBufferedBytes) {
        ws.close(closeCodes.slowConsumer, 'slow consumer: too many unread events');
        setTimeout(() => ws.terminate(), 1000).unref();
        return;
      }
      ws.send(json ?? JSON.stringify(payload));
    };
    // Subscribe before replaying so nothing falls between the two; replayed events are skipped when they come live.
    let replayedUpTo = 0;
    const unsubscribe = this.hub.subscribe((event, json) => {
      if (event.seq > replayedUpTo && matches(event, filter)) send(event, json);
    });
    ws.on('close', unsubscribe);
    send({ type: 'hello', seq: this.hub.lastSeq, oldestSeq: this.hub.oldestSeq, backlog: this.hub.backlog });
    if (since !== undefined) {
      const { events, missed } = this.hub.since(since);
      if (missed > 0)
        send({ type: 'gap', since, missed, oldestSeq: this.hub.oldestSeq, msg: `${missed} events after ${since} are no longer buffered` });
      for (const event of events) if (matches(event, filter)) send(event);
      replayedUpTo = events.at(-1)?.seq ?? since;
    }
  }

  private beat(): void {
    for (const ws of this.wss.clients) {
      if (this.alive.get(ws) === false) {
        ws.close(closeCodes.heartbeatLost, 'no pong');
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
      ws.ping();
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const ws of this.wss.clients) ws.close(closeCodes.goingAway, 'agent stopping');
    this.wss.close();
  }
}
