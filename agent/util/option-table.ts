import type { Argv } from 'yargs';

/** One option of a command: the flag (also read from WN_<FLAG>), its help, and what yargs needs to parse it. */
export interface OptionRow {
  flag: string;
  describe: string;
  type?: 'string' | 'boolean';
  default?: string | boolean;
  array?: true;
}

/** A command's option table onto its yargs builder: every command declares its options this one way. */
export function withOptions<T>(y: Argv<T>, rows: readonly OptionRow[]): Argv<T> {
  let out = y;
  for (const { flag, describe, type = 'string', default: value, array } of rows)
    out = out.option(flag, { type, describe, ...(value === undefined ? {} : { default: value }), ...(array ? { array } : {}) }) as Argv<T>;
  return out;
}
