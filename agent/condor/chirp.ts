import net from 'node:net';
import { networkInterfaces } from 'node:os';

/** What the starter writes into the job's scratch directory for its Chirp server: "<host> <port> <cookie>". */
export interface ChirpEndpoint {
  host: string;
  port: number;
  cookie: string;
}

/**
 * The file is in the job's scratch directory, so the job can rewrite it: the message never echoes its text, and the
 * address must be one of this container's own (the starter's Chirp server listens here), so that a job cannot send
 * the agent to talk to any other host.
 */
export function parseChirpConfig(text: string, localAddresses: ReadonlySet<string> = ownAddresses()): ChirpEndpoint {
  const [host, port, cookie] = text.trim().split(/\s+/);
  if (!host || !port || !/^\d{1,5}$/.test(port) || Number(port) > 65535 || !cookie || cookie.length > 1024)
    throw new Error('not a chirp config');
  if (!localAddresses.has(host) && !/^127\./.test(host)) throw new Error("chirp address is not one of this container's");
  return { host, port: Number(port), cookie };
}

function ownAddresses(): Set<string> {
  return new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)));
}

/** Chirp answers one short line per command; a peer that sends more is not a starter. */
const maxChirpReplyBytes = 64 * 1024;

/** A Chirp word: whitespace and backslashes escaped with a backslash (vsprintf_chirp in HTCondor's chirp_client). */
export function chirpWord(word: string): string {
  return word.replace(/[ \t\n\r\\]/g, (c) => `\\${c}`);
}

/**
 * Sets job attributes through the starter's Chirp server the way `condor_chirp set_job_attr_delayed` does, but for
 * all of them over one connection: cookie, then one command per attribute, pipelined, one result line each ("0" is
 * success, a negative number an error). Delayed updates are held by the starter and sent with its next update to the
 * shadow, the final one included, so they reach the job's ad and condor_history. Returns the names that failed.
 */
export async function setJobAttributesDelayed(
  endpoint: ChirpEndpoint,
  attributes: Record<string, string>,
  timeoutMs = 5000,
): Promise<{ failed: string[]; error?: string }> {
  const names = Object.keys(attributes);
  const request = [
    `cookie ${chirpWord(endpoint.cookie)}`,
    ...names.map((name) => `set_job_attr_delayed ${chirpWord(name)} ${chirpWord(attributes[name] ?? '')}`),
  ]
    .map((line) => `${line}\n`)
    .join('');
  const results = await new Promise<string[]>((resolve, reject) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port });
    let buffer = '';
    const lines: string[] = [];
    const timer = setTimeout(
      () => socket.destroy(new Error(`no answer from the starter's chirp server within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > maxChirpReplyBytes) socket.destroy(new Error('the chirp server answered more than a starter would'));
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        lines.push(buffer.slice(0, nl).trim());
        buffer = buffer.slice(nl + 1);
      }
      if (lines.length >= names.length + 1) socket.end();
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(lines);
    });
  });
  if (results[0] !== '0') return { failed: names, error: `chirp cookie refused (${results[0] ?? 'connection closed'})` };
  const failed = names.filter((_, i) => results[i + 1] !== '0');
  return failed.length === 0
    ? { failed }
    : { failed, error: `chirp answered ${failed.map((n) => `${n}: ${results[names.indexOf(n) + 1] ?? 'nothing'}`).join(', ')}` };
}

/** The starter's `.chirp.config` in a job's scratch directory is one short line. */
export const maxChirpConfigBytes = 4096;
