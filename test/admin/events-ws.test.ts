import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { closeCodes, EventStream, tokenMatches } from '../../agent/admin/events-ws.ts';
import { prettyEvent } from '../../agent/admin/tail.ts';
import { EventHub } from '../../agent/events/hub.ts';
import { waitFor } from '../../agent/util/wait.ts';

const token = 'correct-horse-battery-staple';
let server: http.Server | undefined;
let stream: EventStream | undefined;

async function serve(hub: EventHub, maxBufferedBytes = 1 << 20): Promise<number> {
  stream = new EventStream(hub, { token, maxClients: 3, maxBufferedBytes, heartbeatMs: 60_000 });
  const s = http.createServer();
  server = s;
  s.on('upgrade', (req, socket, head: Buffer) => stream?.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as { port: number }).port;
}

afterEach(async () => {
  stream?.close();
  const s = server;
  if (s) await new Promise((resolve) => s.close(resolve));
  server = undefined;
  stream = undefined;
});

function collect(ws: WebSocket): Record<string, unknown>[] {
  const got: Record<string, unknown>[] = [];
  ws.on('message', (data) => got.push(JSON.parse(data.toString()) as Record<string, unknown>));
  return got;
}

const opened = (ws: WebSocket): Promise<void> =>
  new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });

describe('the event stream (real websocket on loopback)', () => {
  it('compares tokens in constant time and exactly', () => {
    expect(tokenMatches(token, token)).toBe(true);
    expect(tokenMatches(`${token}x`, token)).toBe(false);
    expect(tokenMatches(undefined, token)).toBe(false);
  });

  it('accepts the token as bearer header, subprotocol pair or query, and refuses a wrong one with 401', async () => {
    const port = await serve(new EventHub(10));
    for (const ws of [
      new WebSocket(`ws://127.0.0.1:${port}/v1/events`, { headers: { authorization: `Bearer ${token}` } }),
      new WebSocket(`ws://127.0.0.1:${port}/v1/events`, ['bearer', token]),
      new WebSocket(`ws://127.0.0.1:${port}/v1/events?token=${token}`),
    ]) {
      await opened(ws);
      ws.close();
    }
    const refused = new WebSocket(`ws://127.0.0.1:${port}/v1/events`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } });
    const status = await new Promise((resolve) => refused.on('unexpected-response', (_req, res) => resolve(res.statusCode)));
    expect(status).toBe(401);
  });

  it('filters, replays from ?since=, and tells a client that asked for more than is buffered', async () => {
    const hub = new EventHub(4);
    const port = await serve(hub);
    for (let i = 1; i <= 6; i++) hub.publish({ level: 'info', event: i % 2 ? 'job-started' : 'job-finished', msg: `e${i}` });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/events?since=1&type=job-finished`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const got = collect(ws);
    await opened(ws);
    hub.publish({ level: 'info', event: 'job-finished', msg: 'live' });
    await waitFor(async () => (got.some((e) => e.msg === 'live') ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 10,
      what: 'live event',
    });
    expect(got.map((e) => (e.type === 'hello' || e.type === 'gap' ? e.type : e.seq))).toEqual(['hello', 'gap', 4, 6, 7]);
    expect(got[1]).toMatchObject({ since: 1, missed: 1 });
    ws.close();
  });

  it('cuts off a client that stops reading, while another keeps receiving', async () => {
    const hub = new EventHub(10);
    const port = await serve(hub, 64 * 1024);
    const slow = new WebSocket(`ws://127.0.0.1:${port}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
    const fast = new WebSocket(`ws://127.0.0.1:${port}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
    await Promise.all([opened(slow), opened(fast)]);
    const fastGot = collect(fast);
    const closed = new Promise<number>((resolve) => slow.on('close', (code) => resolve(code)));
    (slow as unknown as { _socket: { pause(): void } })._socket.pause(); // stop reading from the TCP socket
    // More than the kernel's loopback buffers can hold, so the rest waits in the server's queue for this client.
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 400; i++) {
      hub.publish({ level: 'info', event: 'flood', msg: big });
      if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(async () => (stream?.clients === 1 ? true : undefined), { timeoutMs: 5000, intervalMs: 50, what: 'slow client cut off' });
    (slow as unknown as { _socket: { resume(): void } })._socket.resume();
    expect([closeCodes.slowConsumer, 1006]).toContain(await closed);
    hub.publish({ level: 'info', event: 'after', msg: 'still here' });
    await waitFor(async () => (fastGot.some((e) => e.type === 'after') ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 20,
      what: 'fast client keeps receiving',
    });
    fast.close();
  });

  it('prints events readably', () => {
    expect(
      prettyEvent({
        seq: 42,
        time: '2026-11-24T05:00:01.123Z',
        severity: 'info',
        type: 'job-finished',
        daemon: 'starter',
        slot: 'slot1_1',
        jobId: '4.0',
        msg: 'done',
      }),
    ).toBe('    42 2026-11-24 05:00:01Z INFO  job-finished [starter/slot1_1] job 4.0: done');
  });
});
