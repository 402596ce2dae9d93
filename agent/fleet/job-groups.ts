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
/** Job attributes one expression may read and still be followed; real Requirements read a handful. */
export const maxNamesPerText = 64;
const maxWanted = 1024;
const maxOwnersCounted = 1000;
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
  /**
   * Job attributes read by Requirements (or by attributes they read): the owners reading each (up to
   * `maxOwnersCounted`) and the reads. At most `maxWanted` names: a user's made-up names cannot grow it without end.
   */
  readonly wanted = new Map<string, { owners: Set<string>; reads: number }>();
  private readonly known: Set<string>;
  private readonly groupsByOwner = new Map<string, number>();

  constructor(
    readonly columns: readonly string[],
    private readonly references: (text: string) => readonly string[],
    private readonly maxGroups: number,
    /** Groups of one owner, at most: one user's thousands of distinct Requirements cannot crowd others out. */
    private readonly maxGroupsPerOwner: number = Math.max(1, Math.floor(maxGroups / 10)),
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
      const names = this.references(values[i] ?? '');
      if (names.length > maxNamesPerText) {
        this.unreadable += 1; // a text reading that many job attributes is no pilot's: not counted, not followed
        return;
      }
      for (const name of names) {
        const entry = this.wanted.get(name) ?? (this.wanted.size < maxWanted ? { owners: new Set<string>(), reads: 0 } : undefined);
        if (entry) {
          entry.reads += 1;
          if (entry.owners.size < maxOwnersCounted) entry.owners.add(who);
          this.wanted.set(name, entry);
        }
        if (!this.known.has(name.toLowerCase())) complete = false;
      }
    }
    if (!complete) {
      this.unkeyed += 1;
      return;
    }
    const key = createHash('sha256').update(values.slice(1).join('\t')).digest('hex').slice(0, 16);
    const group = this.groups.get(key);
    const owned = this.groupsByOwner.get(who) ?? 0;
    if (group) group.count += 1;
    else if (this.groups.size >= this.maxGroups || owned >= this.maxGroupsPerOwner) this.overflow += 1;
    else {
      this.groups.set(key, { key, owner: who, count: 1, example: id });
      this.groupsByOwner.set(who, owned + 1);
    }
  }

  /**
   * The extra columns for the next pass: the attributes read by the most owners now (then the most jobs), at most
   * `limit`. Ranked by owners, not jobs: one user's thousands of jobs reading made-up names outrank no one else's
   * attribute unless other owners read those names too. Columns no job reads any more drop out.
   */
  nextExtraColumns(limit: number): string[] {
    return [...this.wanted.entries()]
      .filter(([name]) => attributeName.test(name)) // each becomes a condor_q argument, parsed as an expression
      .sort(([a, m], [b, n]) => n.owners.size - m.owners.size || n.reads - m.reads || a.localeCompare(b))
      .slice(0, limit)
      .map(([name]) => name);
  }
}
