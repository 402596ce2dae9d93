import { readdir, readFile } from 'node:fs/promises';
import { delay } from '../util/wait.ts';

// /proc/<pid>/comm holds at most 15 characters.
const daemonNames = new Set(['condor_startd', 'condor_shared_p', 'condor_procd', 'condor_master']);

async function condorDaemons(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = (await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '')).trim();
    if (daemonNames.has(comm)) pids.push(Number(entry));
  }
  return pids;
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/**
 * After condor_master died unexpectedly its daemons live on in their own process groups (DaemonCore gives each one),
 * and a new master would start a second startd beside the old one. They are stopped fast (SIGQUIT: the startd kills
 * its starters, whose jobs go back to the queue), then killed. Returns how many there were.
 */
export async function stopLeftoverDaemons(waitMs = 15_000): Promise<number> {
  const found = await condorDaemons();
  if (found.length === 0) return 0;
  signal(found, 'SIGQUIT');
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && (await condorDaemons()).length > 0) await delay(200);
  signal(await condorDaemons(), 'SIGKILL');
  return found.length;
}
