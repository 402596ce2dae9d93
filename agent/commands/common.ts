import { readAdminToken } from '../config/admin-token.ts';
import { agentPaths } from '../config/options.ts';
import { AgentError, ExitCode } from '../errors.ts';
import type { OptionRow } from '../util/option-table.ts';

/** Ends the command with the error's exit code: one line for people, one JSON line for log collectors (on stderr). */
export function fail(error: AgentError): never {
  // Config errors happen before any logger exists.
  process.stderr.write(`wn-agent: ${error.message}\n`);
  process.stderr.write(`${JSON.stringify({ level: 'fatal', code: error.code, msg: error.message })}\n`);
  process.exit(error.exitCode);
}

/** An AgentError as it is; anything else is a bug (exit 1), not a failure of the engine, the pool or the input. */
export function failWith(error: unknown): never {
  if (error instanceof AgentError) fail(error);
  process.stderr.write(`wn-agent: internal error: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(ExitCode.internal);
}

/** Runs a parse step; its AgentError ends the command (exit 2 for a configuration error). */
export function orFail<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    return failWith(error);
  }
}

/** The options of the commands that talk to a running agent (status, drain): the local socket, or --url. */
export const remoteOptions: readonly OptionRow[] = [
  { flag: 'url', describe: "an agent's admin address (http[s]://host:9680) instead of the local socket" },
  { flag: 'admin-token', describe: 'the token, for --url (also WN_ADMIN_TOKEN)' },
  { flag: 'admin-token-file', describe: 'file holding the token (first line), for --url' },
];

/** The token a client command was given, by the same rule as the agent's own (16+ characters, one source). */
export function clientToken(argv: Record<string, unknown>): string | undefined {
  return orFail(() =>
    readAdminToken({
      token: argv.adminToken as string | undefined,
      tokenFile: argv.adminTokenFile as string | undefined,
    }),
  );
}

/** status and drain: the local socket, or --url with the token (from outside the container). No answer: exit 8. */
export async function adminRequest(
  argv: Record<string, unknown>,
  method: 'GET' | 'POST',
  path: string,
): Promise<{ status: number; body: unknown }> {
  const { localRequest, remoteRequest } = await import('../admin/client.ts');
  const token = argv.url === undefined ? undefined : clientToken(argv);
  if (argv.url !== undefined && !token)
    fail(new AgentError('WN_ERR_CONFIG', '--url needs the admin token: --admin-token-file or WN_ADMIN_TOKEN'));
  const request =
    argv.url === undefined
      ? localRequest(agentPaths.adminSocket, method, path)
      : remoteRequest(String(argv.url), token as string, method, path);
  return request.catch((error: unknown) => fail(new AgentError('WN_ERR_UNREACHABLE', (error as Error).message)));
}
