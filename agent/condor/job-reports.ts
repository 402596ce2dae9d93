import { chmod, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { classAdString } from './classad.ts';
import { writeFileAtomic } from './prepare.ts';

/** What the job wrapper (image/libexec/job-wrapper) reports for each job it started. */
export interface JobReport {
  /** "Cluster.Proc", or "" when the wrapper could not read the job ad. */
  jobId: string;
  slot: string;
  /** Attribute names condor_chirp could not set. */
  failed: string[];
  error: string;
}

export function parseJobReport(text: string): JobReport | undefined {
  const fields = new Map<string, string>();
  for (const part of text.replace(/\n$/, '').split('\t')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  if (!fields.has('job')) return undefined;
  return {
    jobId: fields.get('job') ?? '',
    slot: fields.get('slot') ?? '',
    failed: (fields.get('failed') ?? '').split(' ').filter(Boolean),
    error: fields.get('error') ?? '',
  };
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
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly dir: string,
    private readonly onReport: (report: JobReport) => void,
    private readonly pollMs = 1000,
  ) {}

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.collect();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.collect().finally(() => this.schedule()), this.pollMs);
    this.timer.unref();
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
