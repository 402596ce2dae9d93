import { readFileSync } from 'node:fs';
import { configError } from '../errors.ts';

/** An admin token is at least this long, so that it cannot be guessed. */
export const minAdminTokenLength = 16;

export interface AdminTokenNames {
  token: string;
  tokenFile: string;
}

const defaultNames: AdminTokenNames = {
  token: '--admin-token (WN_ADMIN_TOKEN)',
  tokenFile: '--admin-token-file (WN_ADMIN_TOKEN_FILE)',
};

/**
 * The admin token, by one rule for every command (the agent, its clients, the fleet): --admin-token or the first
 * line of --admin-token-file, not both; a file that cannot be read, an empty first line or a token shorter than 16
 * characters is a configuration error naming the option. Undefined when neither is given.
 */
export function readAdminToken(
  given: { token?: string | undefined; tokenFile?: string | undefined },
  names: AdminTokenNames = defaultNames,
): string | undefined {
  const { token, tokenFile } = given;
  if (token !== undefined && tokenFile !== undefined) throw configError(`${names.token} and ${names.tokenFile}: give one, not both`);
  if (tokenFile === undefined) return check(token?.trim() || undefined, names.token);
  let text: string;
  try {
    text = readFileSync(tokenFile, 'utf8');
  } catch (error) {
    throw configError(`${names.tokenFile}: cannot read ${tokenFile}: ${(error as Error).message}`);
  }
  const first = text.split('\n')[0]?.trim();
  if (!first) throw configError(`${names.tokenFile}: the first line of ${tokenFile} is empty`);
  return check(first, names.tokenFile);
}

function check(token: string | undefined, source: string): string | undefined {
  if (token !== undefined && token.length < minAdminTokenLength)
    throw configError(`${source}: the token must be at least ${minAdminTokenLength} characters (got ${token.length})`);
  return token;
}
