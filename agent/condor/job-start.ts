import { mkdir, chmod, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { classAdString } from './classad.ts';
import { readChirpConfig, setJobAttributesDelayed } from './chirp.ts';
import { answerFifo, FifoServer } from '../util/fifo-server.ts';

/** One job about to start, as the job wrapper (image/libexec/job-wrapper) announced it. */
export interface JobStart {
  /** "Cluster.Proc" from the job ad in the scratch directory, or "" when it could not be read. */
  jobId: string;
  /** The scratch directory is EXECUTE/dir_<starter pid>: the starter the placement handshake confined. */
  starterPid: number;
  /** Attribute names that could not be recorded. */
  failed: string[];
  error?: string;
  /** From the wrapper's request to the agent's answer: what the job waited for. */
  recordMs: number;
}

export const replyFifoName = '.wn-agent-reply';

async function jobIdIn(scratch: string): Promise<string> {
  const text = await readFile(join(scratch, '.job.ad'), 'utf8').catch(() => '');
  const cluster = /^ClusterId = (\d+)$/m.exec(text)?.[1];
  const proc = /^ProcId = (\d+)$/m.exec(text)?.[1];
  return cluster && proc ? `${cluster}.${proc}` : '';
}

/**
 * Records the traceability attributes in every job's ad before the job runs. The job wrapper writes its scratch
 * directory into `requests` (writable by every job user) and waits on `<scratch>/.wn-agent-reply`; the agent reads
 * the starter's chirp address from the scratch directory, sets every attribute over one Chirp connection and answers.
 * One round trip instead of a condor_chirp process per attribute; the job never waits more than the chirp timeout,
 * and runs whatever the outcome (a failure is logged, never fatal to the job).
 */
export class JobStartServer {
  private readonly fifo: FifoServer;
  /** A request names EXECUTE/dir_<starter pid>, nothing else. */
  private readonly scratchPattern: RegExp;
  /** The attributes as ClassAd string literals, as Chirp sends them. */
  private readonly ads: Record<string, string>;

  constructor(
    readonly dir: string,
    private readonly executeDir: string,
    attributes: Record<string, string>,
    private readonly onStart: (start: JobStart) => void,
    private readonly onProblem: (message: string, details: Record<string, unknown>) => void,
    /** Resolves when the job may start as far as others are concerned (its cgroup limits fit its slot). */
    private readonly ready: (starterPid: number) => Promise<void> = async () => {},
    private readonly chirpTimeoutMs = 5000,
  ) {
    this.fifo = new FifoServer(join(dir, 'requests'), (line) => void this.onLine(line), 0o622);
    this.scratchPattern = new RegExp(`^${executeDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/dir_(\\d+)$`);
    this.ads = Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, classAdString(value)]));
  }

  async start(): Promise<void> {
    // Every job user must reach requests: the directory and its parent (the agent's runtime directory) are 0755.
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    for (const dir of [dirname(this.dir), this.dir]) await chmod(dir, 0o755);
    await this.fifo.start();
  }

  async stop(): Promise<void> {
    await this.fifo.stop();
  }

  private async onLine(line: string): Promise<void> {
    const began = process.hrtime.bigint();
    const scratch = line.trim();
    const pid = this.scratchPattern.exec(scratch)?.[1];
    if (!pid) {
      this.onProblem('job start request does not name a scratch directory', { line: line.slice(0, 200), executeDir: this.executeDir });
      return;
    }
    const [jobId, , outcome] = await Promise.all([
      jobIdIn(scratch),
      this.ready(Number(pid)).catch(() => undefined),
      readChirpConfig(join(scratch, '.chirp.config'))
        .then((endpoint) => setJobAttributesDelayed(endpoint, this.ads, this.chirpTimeoutMs))
        .catch((error: unknown) => ({ failed: Object.keys(this.ads), error: (error as Error).message })),
    ]);
    const failedAnswer = await answerFifo(join(scratch, replyFifoName), 'ok\n');
    if (failedAnswer) this.onProblem('cannot answer the job wrapper', { scratch, code: failedAnswer });
    const recordMs = Math.round(Number(process.hrtime.bigint() - began) / 1e5) / 10;
    this.onStart({ jobId, starterPid: Number(pid), failed: outcome.failed, ...(outcome.error ? { error: outcome.error } : {}), recordMs });
  }
}
