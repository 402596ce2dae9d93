/**
 * The job attributes a ClassAd expression reads, as far as its text shows: every attribute reference that is not
 * TARGET-scoped, not a function call, not a literal keyword, and not an attribute the worker's machine ad defines.
 * The fleet groups idle jobs by their Requirements text; where that text reads job attributes (MY.Foo, or a bare
 * name the machine does not have), two jobs with the same text can still match differently, so the values of those
 * attributes must be part of the group's key. Over-reporting costs one more column in condor_q; under-reporting
 * would let one job decide for others, so anything that is not plainly the machine's counts.
 */
const keywords = new Set(['true', 'false', 'undefined', 'error', 'is', 'isnt', 'my', 'target', 'parent']);

/** Attributes a job's Requirements commonly read that are already part of every group's key. */
export const keyedJobAttributes = ['RequestCpus', 'RequestMemory', 'RequestDisk', 'FileSystemDomain', 'RequestGPUs'];

const maxNameLength = 100;

export function jobReferences(expression: string, machineAttributes: ReadonlySet<string>, maxNames = 64): string[] {
  const found = new Set<string>();
  const machine = new Set([...machineAttributes].map((a) => a.toLowerCase()));
  const keyed = new Set(keyedJobAttributes.map((a) => a.toLowerCase()));
  // String literals first, so that words inside quotes are not read as references.
  const code = expression.replace(/"(?:[^"\\]|\\.)*"/gs, '""');
  for (const match of code.matchAll(/(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)(\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)?(\s*\()?/g)) {
    const [, first = '', dotted, call] = match;
    if (call) continue; // a function: strcat(...), regexp(...)
    const scope = dotted ? first.toLowerCase() : undefined;
    if (scope === 'target') continue;
    // MY.Name is the job's Name; in a.b (a nested ad's field) the attribute read is a, wherever it resolves.
    const name = scope === 'my' && dotted ? dotted.replace(/[\s.]/g, '') : first;
    if (scope !== 'my' && (keywords.has(name.toLowerCase()) || machine.has(name.toLowerCase()))) continue;
    if (keyed.has(name.toLowerCase())) continue;
    // A name longer than this is not asked for: its jobs stay uncounted rather than make condor_q's argv unbounded.
    found.add(name.length <= maxNameLength ? name : name.slice(0, maxNameLength) + '…');
    if (found.size > maxNames) break; // the caller refuses more than maxNames: no need to collect thousands
  }
  return [...found];
}
