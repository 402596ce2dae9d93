import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { PlacementServer, type PlacementRequest } from '../../agent/isolation/placement-server.ts';

const sh = promisify(execFile);

// The wrapper's side of the handshake, as image/libexec/starter-wrapper does it (mkfifo; under one timeout: open the
// reply FIFO, one write, one read).
async function ask(dir: string, slot: string): Promise<string> {
  const { stdout } = await sh('sh', [
    '-c',
    'reply="$1/reply.$$"; mkfifo -m 600 "$reply"; timeout 5 sh -c \'exec 3<>"$4"; printf "%s %s %s\\n" "$1" "$2" "$4" >"$3" && read -r a <&3 && echo "$a"\' sh $$ "$2" "$1/requests" "$reply"; rm -f "$reply"',
    'sh',
    dir,
    slot,
  ]);
  return stdout.trim();
}

let server: PlacementServer | undefined;
afterEach(async () => {
  await server?.stop();
});

describe('PlacementServer (real FIFOs, the wrapper side in sh)', () => {
  it('answers ok or deny, for concurrent requests, and passes pid and slot on', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'wn-place-')), 'placement');
    const seen: PlacementRequest[] = [];
    server = new PlacementServer(dir, async (request) => {
      seen.push(request);
      return request.slot === 'slot1_2' ? { ok: false, reason: 'no room\nat all' } : { ok: true };
    }, () => {}, 5);
    await server.start();
    const answers = await Promise.all([ask(dir, 'slot1_1'), ask(dir, 'slot1_2'), ask(dir, 'slot1_3')]);
    expect(answers).toEqual(['ok', 'deny no room at all', 'ok']);
    expect(seen.map((r) => r.slot).sort()).toEqual(['slot1_1', 'slot1_2', 'slot1_3']);
    expect(seen.every((r) => Number.isInteger(r.pid) && r.pid > 1)).toBe(true);
  });

  it('ignores malformed requests and reports them', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'wn-place-')), 'placement');
    const problems: string[] = [];
    server = new PlacementServer(dir, async () => ({ ok: true }), (message) => problems.push(message), 5);
    await server.start();
    await sh('sh', ['-c', 'printf "rm -rf / now\\n" > "$1/requests"', 'sh', dir]);
    expect(await ask(dir, 'slot1_1')).toBe('ok');
    expect(problems).toContain('malformed placement request');
  });
});
