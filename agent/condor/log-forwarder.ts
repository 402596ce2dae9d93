import { open, readdir, stat } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
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

const maxReadPerPoll = 1 << 20;
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
  /** One read of a file at a time, whoever asks (the loop, flush, stop): two at once would forward lines twice. */
  private readonly fileReads = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly dir: string,
    private readonly onLine: (line: ForwardedLine) => void,
    pollMs = 2000,
  ) {
    this.loop = new PollLoop(() => this.poll(), pollMs);
  }

  /** Lines already in the directory are skipped: after a restart of the container they were forwarded before. */
  async start(): Promise<void> {
    for (const name of await this.list()) {
      const source = daemonLogFile(name);
      if (!source) continue;
      try {
        const info = await stat(join(this.dir, name));
        this.files.set(name, { ino: info.ino, offset: info.size, partial: '', decoder: new StringDecoder('utf8'), source });
      } catch {
        // gone between readdir and stat
      }
    }
    try {
      this.watcher = watch(this.dir, { persistent: false }, () => this.loop.trigger());
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
    await this.poll();
    for (const [file, state] of this.files) {
      if (state.partial) this.onLine({ ...state.source, file, line: capped(state.partial, state.dropped) });
      state.partial = '';
      state.dropped = 0;
    }
  }

  private async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).sort();
    } catch {
      return [];
    }
  }

  /**
   * Reads everything written so far, now; with a file name, only that file (placement reads StartLog to its end
   * before it looks up a slot's size, and must not wait behind a burst of StarterLog lines).
   */
  flush(file?: string): Promise<void> {
    if (file === undefined) return this.poll();
    const source = daemonLogFile(file);
    return source ? this.readOne(file, source) : Promise.resolve();
  }

  /** Every daemon log in the directory; safe beside any other read (reads are serialized per file). */
  private async poll(): Promise<void> {
    for (const name of await this.list()) {
      const source = daemonLogFile(name);
      if (source) await this.readOne(name, source);
    }
  }

  private readOne(name: string, source: DaemonLogFile): Promise<void> {
    const next = (this.fileReads.get(name) ?? Promise.resolve()).then(() => this.readFile(name, source));
    this.fileReads.set(
      name,
      next.catch(() => undefined),
    );
    return next;
  }

  private async readFile(name: string, source: DaemonLogFile): Promise<void> {
    const path = join(this.dir, name);
    const known = this.files.get(name);
    if (known) {
      const info = await stat(path).catch(() => undefined);
      if (info && info.ino === known.ino && info.size === known.offset) return;
    }
    let handle;
    try {
      handle = await open(path, 'r');
    } catch {
      return;
    }
    try {
      const info = await handle.stat();
      let state = this.files.get(name);
      if (!state || state.ino !== info.ino || info.size < state.offset) {
        state = { ino: info.ino, offset: 0, partial: '', decoder: new StringDecoder('utf8'), source };
        this.files.set(name, state);
      }
      while (state.offset < info.size) {
        const length = Math.min(info.size - state.offset, maxReadPerPoll);
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, state.offset);
        if (bytesRead === 0) break;
        state.offset += bytesRead;
        const text = state.partial + state.decoder.write(buffer.subarray(0, bytesRead));
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
    } finally {
      await handle.close();
    }
  }
}
