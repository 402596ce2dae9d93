import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { chirpWord, parseChirpConfig, setJobAttributesDelayed } from '../../agent/condor/chirp.ts';

// The starter's Chirp server is real in the integration tests (condor_history shows the attributes). Here a loopback
// stand-in speaks the same line protocol, to pin down escaping, pipelining and the error paths.
let server: net.Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

async function standIn(answer: (line: string) => string | undefined): Promise<{ port: number; received: string[] }> {
  const received: string[] = [];
  server = net.createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        received.push(line);
        const reply = answer(line);
        if (reply === undefined) {
          socket.end(); // as the starter does after a refused cookie
          return;
        }
        socket.write(`${reply}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { port: (server?.address() as net.AddressInfo).port, received };
}

describe('chirp', () => {
  it("reads the starter's config line and refuses anything else", () => {
    const own = new Set(['10.88.0.5']);
    expect(parseChirpConfig('10.88.0.5 42113 abc123def\n', own)).toEqual({ host: '10.88.0.5', port: 42113, cookie: 'abc123def' });
    expect(parseChirpConfig('127.0.0.1 9 c', own)).toEqual({ host: '127.0.0.1', port: 9, cookie: 'c' });
    expect(() => parseChirpConfig('', own)).toThrow(/not a chirp config/);
    expect(() => parseChirpConfig('host notaport cookie', own)).toThrow(/not a chirp config/);
    expect(() => parseChirpConfig('10.88.0.5 99999 cookie', own)).toThrow(/not a chirp config/);
  });

  it("refuses an address that is not this container's (a job rewrote the file) and never echoes the file", () => {
    expect(() => parseChirpConfig('10.1.2.3 22 secret-looking-text', new Set(['10.88.0.5']))).toThrow(/not one of this container's/);
    expect(() => parseChirpConfig('root:x:0:0:root:/root:/bin/bash')).toThrow(/^not a chirp config$/);
  });

  it("escapes whitespace and backslashes as HTCondor's chirp client does", () => {
    expect(chirpWord('"a b\\tc"')).toBe('"a\\ b\\\\tc"');
    expect(chirpWord('x\ty\nz')).toBe('x\\\ty\\\nz');
  });

  it('sends the cookie and every attribute over one connection and reports none failed', async () => {
    const { port, received } = await standIn(() => '0');
    const result = await setJobAttributesDelayed(
      { host: '127.0.0.1', port, cookie: 'c00kie' },
      { ChirpContainerId: '"abc"', ChirpImage: '"reg/x:1 2"' },
    );
    expect(result).toEqual({ failed: [] });
    expect(received).toEqual([
      'cookie c00kie',
      'set_job_attr_delayed ChirpContainerId "abc"',
      'set_job_attr_delayed ChirpImage "reg/x:1\\ 2"',
    ]);
  });

  it('names the attributes the server refused', async () => {
    const { port } = await standIn((line) => (line.includes('ChirpBad') ? '-8' : '0'));
    const result = await setJobAttributesDelayed({ host: '127.0.0.1', port, cookie: 'c' }, { ChirpGood: '1', ChirpBad: '2' });
    expect(result.failed).toEqual(['ChirpBad']);
    expect(result.error).toMatch(/ChirpBad: -8/);
  });

  it('fails every attribute when the cookie is refused or nobody listens', async () => {
    const { port } = await standIn((line) => (line.startsWith('cookie') ? undefined : '0'));
    expect((await setJobAttributesDelayed({ host: '127.0.0.1', port, cookie: 'wrong' }, { ChirpA: '1' })).failed).toEqual(['ChirpA']);
    server?.close();
    await expect(setJobAttributesDelayed({ host: '127.0.0.1', port, cookie: 'c' }, { ChirpA: '1' })).rejects.toThrow(/ECONNREFUSED/);
  });
});
