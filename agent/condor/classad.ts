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

/** ClassAd attribute names: a letter or underscore, then letters, digits and underscores. */
export function isAttributeName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
