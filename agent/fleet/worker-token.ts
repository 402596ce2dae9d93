import { createHmac } from 'node:crypto';

/**
 * A worker's own admin token: HMAC-SHA256 of its container name under the fleet's key (--admin-token-file), hex.
 * The controller derives it again from the name whenever it speaks to a worker, so it keeps no per-worker state
 * (a restarted controller reads its workers at once), and a worker, or a job that got out on it, learns only its own
 * token: the key never leaves the controller, and one worker's token opens no other worker.
 */
export function workerToken(fleetKey: string, workerName: string): string {
  return createHmac('sha256', fleetKey).update(workerName, 'utf8').digest('hex');
}
