/** Parsers for human-written durations and sizes. They return undefined on bad input; the caller names the flag. */

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s", "10m", "1h30m", "250ms" or plain seconds ("20") → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(part)) {
    if (match.index !== consumed) return undefined;
    total += Number(match[1]) * (durationUnits[match[2] ?? ''] ?? Number.NaN);
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== trimmed.length || !Number.isFinite(total)) return undefined;
  return Math.round(total);
}

const sizeUnitsMiB: Record<string, number> = {
  '': 1,
  k: 1 / 1024,
  ki: 1 / 1024,
  kb: 1 / 1024,
  kib: 1 / 1024,
  m: 1,
  mi: 1,
  mb: 1,
  mib: 1,
  g: 1024,
  gi: 1024,
  gb: 1024,
  gib: 1024,
  t: 1024 * 1024,
  ti: 1024 * 1024,
  tb: 1024 * 1024,
  tib: 1024 * 1024,
};

/** "4096" (MiB, HTCondor's unit for Memory), "4G", "512Mi", "1.5GiB" → whole MiB. Units are binary, as HTCondor's are. */
export function parseSizeMiB(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) return undefined;
  const factor = sizeUnitsMiB[(match[2] ?? '').toLowerCase()];
  if (factor === undefined) return undefined;
  return Math.floor(Number(match[1]) * factor);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
