import { chmod, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { classAdString } from './classad.ts';
import { writeFileAtomic } from './prepare.ts';
import { PollLoop } from '../util/poll-loop.ts';

/** What the job wrapper (image/libexec/job-wrapper) reports for each job it started. */
export interface JobReport {
  /** "Cluster.Proc", or "" when the wrapper could not read the job ad. */
  jobId: string;
  slot: string;
  /** Attribute names condor_chirp could not set. */
  failed: string[];
  error: string;
  /** How long the wrapper took to record the attributes (ms), when it says. */
  wrapperMs?: number;
}

export function parseJobReport(text: string): JobReport | undefined {
  const fields = new Map<string, string>();
  for (const part of text.replace(/\n$/, '').split('\t')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  if (!fields.has('job')) return undefined;
  const report: JobReport = {
    jobId: fields.get('job') ?? '',
    slot: fields.get('slot') ?? '',
    failed: (fields.get('failed') ?? '').split(' ').filter(Boolean),
    error: fields.get('error') ?? '',
  };
  const ms = fields.get('ms');
  if (ms !== undefined && /^\d+$/.test(ms)) report.wrapperMs = Number(ms);
  return report;
}

/** The attributes the wrapper records, one "Name<TAB>ClassAd literal" per line, readable by every job user. */
export async function writeJobAttributes(runtimeDir: string, attributes: Record<string, string>): Promise<void> {
  await mkdir(runtimeDir, { recursive: true, mode: 0o755 });
  const reports = join(runtimeDir, 'job-reports');
  await mkdir(reports, { recursive: true });
  await chmod(reports, 0o1733); // sticky and write-only for others: a job can drop its report, not read or remove another's
  const text = Object.entries(attributes)
    .map(([name, value]) => `${name}\t${classAdString(value)}\n`)
    .join('');
  await writeFileAtomic(join(runtimeDir, 'job-attrs'), text);
}

/** Collects the wrapper's reports (polling: they are written by job users into a directory of the agent's). */
export class JobReportWatcher {
  private readonly loop: PollLoop;

  constructor(
    private readonly dir: string,
    private readonly onReport: (report: JobReport) => void,
    pollMs = 1000,
  ) {
    this.loop = new PollLoop(() => this.collect(), pollMs);
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.collect();
  }

  async collect(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      if (name.endsWith('.tmp')) continue;
      const path = join(this.dir, name);
      const text = await readFile(path, 'utf8').catch(() => undefined);
      await rm(path, { force: true });
      const report = text === undefined ? undefined : parseJobReport(text);
      if (report) this.onReport(report);
    }
  }
}
