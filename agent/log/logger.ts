import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config/options.ts';

export type { Logger } from 'pino';

export interface AgentLog {
  logger: Logger;
  /** Writes out whatever is buffered; call before the process exits. */
  flush(): void;
}

/**
 * JSON lines on stdout: the agent's own lines and forwarded HTCondor lines alike, so a container log store gets one
 * format. Asynchronous writes keep a slow log reader from stalling the agent; flush() before exit loses nothing.
 */
export function createLogger(level: LogLevel, base: Record<string, unknown> = {}, fd = 1, tap?: { write(line: string): void }): AgentLog {
  const destination = pino.destination({ dest: fd, sync: false, minLength: 0 });
  const streams = tap
    ? pino.multistream([
        { level, stream: destination },
        { level, stream: tap },
      ])
    : destination;
  const logger = pino(
    {
      level,
      base: { agent: 'wn-agent', ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    streams,
  );
  return {
    logger,
    flush: () => {
      try {
        destination.flushSync();
      } catch {
        // flushSync throws when nothing was opened yet or the reader is gone; nothing left to save then.
      }
    },
  };
}
