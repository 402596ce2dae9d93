import type { AdminServer } from '../admin/server.ts';
import type { AgentStatus } from '../admin/status.ts';
import { agentPaths, type AgentConfig } from '../config/options.ts';
import type { EventHub } from '../events/hub.ts';
import type { Logger } from '../log/logger.ts';
import { Tally } from '../util/tally.ts';
import { agentVersion } from '../version.ts';

/** The event stream's limits: a client with more unsent than this is cut off; every client is pinged this often. */
export const eventStreamLimits = { maxBufferedBytes: 1 << 20, heartbeatMs: 30_000 } as const;
/** Refused admin requests are logged at most this often, with counts: whoever tries tokens sets no pace. */
const authFailureReportMs = 60_000;

export interface AdminSide {
  admin: AdminServer;
  authFailures: Tally;
}

/**
 * The admin side: /healthz, /readyz, /metrics and /v1 over HTTP(S) and the local socket, the event stream when a
 * token is set. Imported here, after condor_master started: HTTP(S), the websocket and Prometheus' client (and the
 * Node modules they load) are not needed before the first slot ad, and loading them is CPU on every cold start.
 */
export async function startAdminSide(options: {
  config: AgentConfig;
  log: Logger;
  hub: EventHub;
  status: AgentStatus;
  revision: string | undefined;
  onDrain: (timeoutMs: number | undefined) => 'accepted' | 'hurried';
}): Promise<AdminSide> {
  const { config, log, status } = options;
  const [{ AdminServer }, { EventStream }, { createMetrics }] = await Promise.all([
    import('../admin/server.ts'),
    import('../admin/events-ws.ts'),
    import('../admin/metrics.ts'),
  ]);
  const authFailures = new Tally(authFailureReportMs, (counts) =>
    log.warn({ event: 'admin-auth-failed', counts }, 'requests without the right admin token refused'),
  );
  const onAuthFailure = (where: 'v1' | 'events'): void => {
    status.counters.adminAuthFailures += 1;
    authFailures.count(where);
  };
  const events =
    config.adminToken && config.adminListen
      ? new EventStream(options.hub, { token: config.adminToken, maxClients: config.adminMaxClients, ...eventStreamLimits, onAuthFailure })
      : undefined;
  const admin = new AdminServer({
    events,
    token: config.adminToken,
    tls: config.adminTls,
    listen: config.adminListen,
    socketPath: agentPaths.adminSocket,
    status,
    metrics: createMetrics(status, { version: agentVersion, revision: options.revision }, options.hub),
    onAuthFailure,
    onDrain: options.onDrain,
  });
  await admin.start();
  log.info(
    {
      event: 'admin-listening',
      listen: config.adminListen,
      socket: agentPaths.adminSocket,
      port: admin.port,
      tls: config.adminTls !== undefined,
      eventStream: events !== undefined,
    },
    'health, readiness and metrics served',
  );
  if (!events)
    log.warn({ event: 'event-stream-off' }, 'no --admin-token (WN_ADMIN_TOKEN) or --admin-listen off: the event stream /v1/events is off');
  return { admin, authFailures };
}
