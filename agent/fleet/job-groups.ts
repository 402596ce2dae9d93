import { createHash } from 'node:crypto';

/**
 * The columns every demand query asks condor_q for (-af:rt), before the job attributes groups must also agree on.
 * FileSystemDomain and RequestGPUs are read by the Requirements condor_submit writes itself
 * (`TARGET.FileSystemDomain == MY.FileSystemDomain` unless files are always transferred): asked for from the first
 * cycle, or every new group of ordinary jobs would wait one cycle for its column.
 */
export const baseColumns = [
  'GlobalJobId',
  'Owner',
  'Requirements',
  'RequestCpus',
  'RequestMemory',
  'RequestDisk',
  'FileSystemDomain',
  'RequestGPUs',
] as const;

export interface JobGroup {
  /** Hash of everything that decides the match: owner, Requirements as written, requests, the job attributes read. */
  key: string;
  owner: string;
  count: number;
  /** GlobalJobId of one job of the group: schedd#cluster.proc#time. */
  example: string;
}

const globalJobId = /^"([\w.@:-]{1,255}#\d{1,10}\.\d{1,6}#\d{1,12})"$/;
const attributeName = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
const owner = /^"([\w.@+-]{1,128})"$/;

/**
 * One streaming pass over `condor_q -af:rt <columns>`: jobs grouped by what decides their match, so a pool of
 * 10,000 pilots holds a handful of groups. Nothing per job is kept, only per group, and at most `maxGroups` of them.
 *
 * A Requirements text that reads job attributes (MY.Foo) can match differently for two jobs that share it; the
 * values of those attributes are then part of the key, which needs them as columns. `references` says which
 * attributes a text reads; a job whose Requirements (or the attributes they read, one level per cycle) read one that
 * is not a column yet is not counted this pass, and `wanted` tells the next pass which columns to add.
 */
export class GroupingPass {
  readonly groups = new Map<string, JobGroup>();
  /** Lines that are not a job row this query asked for (a tab inside a value, a malformed id). */
  unreadable = 0;
  /** Jobs whose match depends on job attributes this pass did not ask for. */
  unkeyed = 0;
  /** Jobs of groups beyond maxGroups. */
  overflow = 0;
  /** Job attributes read by Requirements (or by attributes they read), with the number of reads of each. */
  readonly wanted = new Map<string, number>();
  private readonly known: Set<string>;

  constructor(
    readonly columns: readonly string[],
    private readonly references: (text: string) => readonly string[],
    private readonly maxGroups: number,
  ) {
    this.known = new Set(columns.map((c) => c.toLowerCase()));
  }

  add(line: string): void {
    if (line === '') return;
    const values = line.split('\t');
    const id = globalJobId.exec(values[0] ?? '')?.[1];
    const who = owner.exec(values[1] ?? '')?.[1];
    if (!id || !who || values.length !== this.columns.length) {
      this.unreadable += 1;
      return;
    }
    // Requirements and every extra column (attributes that Requirements read may read others in turn).
    let complete = true;
    for (let i = 2; i < values.length; i++) {
      if (i >= 3 && i < baseColumns.length) continue; // requests and the like: values, not expressions worth following
      for (const name of this.references(values[i] ?? '')) {
        this.wanted.set(name, (this.wanted.get(name) ?? 0) + 1);
        if (!this.known.has(name.toLowerCase())) complete = false;
      }
    }
    if (!complete) {
      this.unkeyed += 1;
      return;
    }
    const key = createHash('sha256').update(values.slice(1).join('\t')).digest('hex').slice(0, 16);
    const group = this.groups.get(key);
    if (group) group.count += 1;
    else if (this.groups.size >= this.maxGroups) this.overflow += 1;
    else this.groups.set(key, { key, owner: who, count: 1, example: id });
  }

  /**
   * The extra columns for the next pass: the attributes read by the most jobs now, at most `limit`. Columns no job
   * reads any more drop out, so one user's hundred made-up attribute names cannot keep others' out for good.
   */
  nextExtraColumns(limit: number): string[] {
    return [...this.wanted.entries()]
      .filter(([name]) => attributeName.test(name)) // each becomes a condor_q argument, parsed as an expression
      .sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
      .slice(0, limit)
      .map(([name]) => name);
  }
}
