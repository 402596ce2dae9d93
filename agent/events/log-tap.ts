import { Writable } from 'node:stream';
import type { EventHub } from './hub.ts';

/**
 * A pino destination beside stdout: each JSON line the logger writes is parsed once and published to the hub, so
 * every log line (the agent's and HTCondor's) is an event, and there is one way to produce both.
 */
export function logTap(hub: EventHub): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        try {
          hub.publish(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not JSON: nothing pino writes, nothing to publish
        }
      }
      callback();
    },
  });
}
