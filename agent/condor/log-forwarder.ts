import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { StringDecoder } from 'node:string_decoder';
import { PollLoop } from '../util/poll-loop.ts';
import { daemonLogFile, type DaemonLogFile } from './log-line.ts';

export interface ForwardedLine extends DaemonLogFile {
  file: string;
  line: string;
}

interface FileState {
  ino: number;
  offset: number;
  partial: string;
  /** Characters of the unfinished line already dropped (beyond what it can forward). */
  dropped?: number;
  /** Keeps a UTF-8 character split across two reads whole. */
  decoder: StringDecoder;
  source: DaemonLogFile;
}

/**
 * At most this many bytes of one file per look: the reads are synchronous, so a log that grew by many MB while the
 * agent was busy is read a MiB at a time, with the event loop free in between (probes, placements, the admin API).
 */
const maxReadPerLook = 1 << 20;
/** One buffer for every read: each read's bytes are decoded into a string before the next read. */
const readBuffer = Buffer.allocUnsafe(1 << 16);
/** daemonLogFile() per name, once: the directory's names are looked at on every sweep and every inotify event. */
const sources = new Map<string, DaemonLogFile | undefined>();
const sourceOf = (name: string): DaemonLogFile | undefined => {
  if (!sources.has(name)) {
    if (sources.size > 4096) sources.clear();
    sources.set(name, daemonLogFile(name));
  }
  return sources.get(name);
};
/**
 * A forwarded line is cut at this many characters: jobs control parts of some (the starter logs "About to exec" with
 * the job's arguments), and every line becomes a log line and an event in the backlog.
 */
export const maxForwardedLineChars = 8192;

const capped = (line: string, dropped = 0): string =>
  line.length <= maxForwardedLineChars
    ? line
    : `${line.slice(0, maxForwardedLineChars)} …[${line.length - maxForwardedLineChars + dropped} characters cut]`;

/**
 * Follows every daemon log in HTCondor's LOG directory and hands each complete line on. HTCondor sends its daemons'
 * stdout and stderr to /dev/null (condor_master -f included), so these files are the only place their words appear.
 * inotify on the directory says when to look (a daemon wrote a line: read it within ~20 ms); a slow poll behind it
 * catches what inotify can miss (a watch that failed, a rotation). A file whose inode changed or that shrank is read
 * again from its start; a file whose size did not change is not even opened.
 */
export class LogForwarder {
  private readonly files = new Map<string, FileState>();
  private readonly loop: PollLoop;
  private watcher: FSWatcher | undefined;
  private stopped = false;
  /**
   * The files inotify named since the last tick: only these are read then. A 64-slot worker has 64 StarterLogs, and
   * a look at each whenever any daemon writes a line was most of the forwarder's cost per job.
   */
  private readonly named = new Set<string>();
  /** Every file is looked at on the slow poll, and when inotify names none (an overflowed queue). */
  private sweepDue = true;
  private lastSweep = 0;

  constructor(
    private readonly dir: string,
    private readonly onLine: (line: ForwardedLine) => void,
    private readonly pollMs = 2000,
  ) {
    this.loop = new PollLoop(() => this.tick(), pollMs);
  }

  /** Lines already in the directory are skipped: after a restart of the container they were forwarded before. */
  async start(): Promise<void> {
    for (const name of this.list()) {
      const source = sourceOf(name);
      if (!source) continue;
      try {
        const info = statSync(join(this.dir, name));
        this.files.set(name, { ino: info.ino, offset: info.size, partial: '', decoder: new StringDecoder('utf8'), source });
      } catch {
        // gone between readdir and stat
      }
    }
    try {
      this.watcher = watch(this.dir, { persistent: false }, (_type, name) => {
        if (typeof name !== 'string' || name === '') this.sweepDue = true;
        else if (sourceOf(name)) this.named.add(name);
        else return;
        this.loop.trigger();
      });
      this.watcher.on('error', () => undefined); // the slow poll carries on
    } catch {
      // no inotify (limits reached): the slow poll alone
    }
    this.loop.start();
  }

  /** Reads what is left, including a last line without newline, then stops. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.watcher?.close();
    await this.loop.stop();
    await this.flush();
    for (const [file, state] of this.files) {
      if (state.partial) this.onLine({ ...state.source, file, line: capped(state.partial, state.dropped) });
      state.partial = '';
      state.dropped = 0;
    }
  }

  private list(): string[] {
    try {
      return readdirSync(this.dir).sort();
    } catch {
      return [];
    }
  }

  /**
   * Reads everything written so far, now; with a file name, only that file (placement reads StartLog to its end
   * before it looks up a slot's size, and must not wait behind a burst of StarterLog lines).
   */
  async flush(file?: string): Promise<void> {
    // Not at once: a line handler that flushes (the startd reaped a starter) runs inside a read, and a read of the same
    // file within it would forward lines out of order.
    await Promise.resolve();
    for (const name of file === undefined ? this.list() : [file]) {
      const source = sourceOf(name);
      if (source) while (this.readFile(name, source)) await nextTurn();
    }
  }

  /** The files inotify named, or all of them when a sweep is due. */
  private async tick(): Promise<void> {
    const now = Date.now();
    if (this.sweepDue || now - this.lastSweep >= this.pollMs) {
      this.sweepDue = false;
      this.lastSweep = now;
      this.named.clear();
      this.readEach(this.list());
      return;
    }
    const names = [...this.named].sort();
    this.named.clear();
    this.readEach(names);
  }

  /** One look at each file; a file with more left than one look reads is looked at again on the next tick. */
  private readEach(names: readonly string[]): void {
    for (const name of names) {
      const source = sourceOf(name);
      if (source && this.readFile(name, source)) {
        this.named.add(name);
        this.loop.trigger();
      }
    }
  }

  /**
   * Reads a file's new lines synchronously: the LOG directory is the container's own local disk, and a read of a few
   * kB costs a few microseconds, where the same through the thread pool (stat, open, fstat, read, close: five round
   * trips) was most of the forwarder's cost per job. One read at a time, by construction: nothing here awaits. At most
   * `maxReadPerLook` bytes; true when more is left.
   */
  private readFile(name: string, source: DaemonLogFile): boolean {
    const path = join(this.dir, name);
    const known = this.files.get(name);
    if (known) {
      const info = statSync(path, { throwIfNoEntry: false });
      if (info && info.ino === known.ino && info.size === known.offset) return false;
    }
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return false;
    }
    try {
      const info = fstatSync(fd);
      let state = this.files.get(name);
      if (!state || state.ino !== info.ino || info.size < state.offset) {
        state = { ino: info.ino, offset: 0, partial: '', decoder: new StringDecoder('utf8'), source };
        this.files.set(name, state);
      }
      const end = Math.min(info.size, state.offset + maxReadPerLook);
      while (state.offset < end) {
        const length = Math.min(end - state.offset, readBuffer.length);
        const bytesRead = readSync(fd, readBuffer, 0, length, state.offset);
        if (bytesRead === 0) break;
        state.offset += bytesRead;
        const text = state.partial + state.decoder.write(readBuffer.subarray(0, bytesRead));
        const lines = text.split('\n');
        // A line still without its end keeps no more than it can forward, and counts the rest.
        const rest = lines.pop() ?? '';
        const first = lines.shift();
        if (first !== undefined) {
          if (first !== '') this.onLine({ ...source, file: name, line: capped(first, state.dropped) });
          state.dropped = 0;
        }
        for (const line of lines) if (line !== '') this.onLine({ ...source, file: name, line: capped(line) });
        if (rest.length > maxForwardedLineChars + 1) state.dropped = (state.dropped ?? 0) + rest.length - maxForwardedLineChars - 1;
        state.partial = rest.slice(0, maxForwardedLineChars + 1);
      }
      return state.offset < info.size;
    } catch {
      return false; // a read error: the next look tries again from the same offset
    } finally {
      closeSync(fd);
    }
  }
}
