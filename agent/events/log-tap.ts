import type { EventHub } from './hub.ts';

/** What pino writes to: each call one serialized record (its multistream writes line by line). */
export interface LineSink {
  write(line: string): void;
}

/**
 * A pino destination beside stdout: each JSON line the logger writes is parsed once and published to the hub, so
 * every log line (the agent's and HTCondor's) is an event, and there is one way to produce both. A plain sink, not a
 * Node stream: a Writable's buffering and callbacks cost more than the parse, for every line.
 */
export function logTap(hub: EventHub): LineSink {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) {
        if (!line) continue;
        try {
          hub.publish(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not JSON: nothing pino writes, nothing to publish
        }
      }
    },
  };
}
