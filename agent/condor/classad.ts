/**
 * ClassAd literals for values that come from the environment (task IDs, image names, operator attributes).
 * ClassAd string escapes (HTCondor manual, "ClassAd Syntax"): backslash, double quote, and C-style control escapes.
 * Non-ASCII is written as \uXXXX-free UTF-8: classads read UTF-8 bytes in strings as-is, but control characters
 * and newlines would end a config line, so they are escaped.
 */
export function classAdString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * A string value as HTCondor's configuration reads it into a ClassAd (STARTD_ATTRS values). Configuration values use
 * OLD ClassAd escaping (compat_classad ConvertEscapingOldToNew): only \" is an escape, a backslash is literal, and a
 * backslash before the closing quote stays literal (observed: "a \\ b" in the config reaches condor_status as
 * a \\ b). A `$` followed by a name or "(" starts a config macro, and $(DOLLAR) fails for "$$" (read as a match-time
 * $$( macro), so a value holding `$` becomes strcat("...", "$", "..."): every `$` then stands before a quote.
 * A config line cannot hold a line break: control characters become spaces (operator values with them are refused
 * at start, see config/parse.ts).
 */
export function configClassAdString(value: string): string {
  const quote = (part: string): string => `"${part.replaceAll('"', '\\"')}"`;
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, ' ');
  if (!clean.includes('$')) return quote(clean);
  // Inside strcat a part's closing quote is not the value's last: a backslash before it would escape it, so trailing
  // backslashes are written as substr("\\ ", 0, 1) (backslash-space is literal in old syntax; keep the backslash).
  const args = clean.split('$').map((part) => {
    const trailing = /\\+$/.exec(part)?.[0].length ?? 0;
    return [quote(part.slice(0, part.length - trailing)), ...Array<string>(trailing).fill('substr("\\ ", 0, 1)')].join(', ');
  });
  return `strcat(${args.join(', "$", ')})`;
}
