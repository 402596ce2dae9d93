/**
 * One error type for the agent, with stable string codes (listed in the README) and the exit code each maps to.
 * Operators and schedulers read the exit code; people read the message; `cause` keeps the underlying error.
 */
export const ExitCode = {
  ok: 0,
  internal: 1,
  config: 2,
  condor: 3,
  cvmfs: 4,
  drainDeadline: 5,
  isolation: 6,
  fleet: 7,
  /** `wn-agent status` / `drain`: no agent answered (not running here, or not at --url). */
  unreachable: 8,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

const codes = {
  /** A flag or environment variable has a bad value; the message names it. */
  WN_ERR_CONFIG: ExitCode.config,
  /** A credential (pool password or token) could not be read or installed. */
  WN_ERR_CREDENTIALS: ExitCode.config,
  /** The agent's state directory or HTCondor directories could not be prepared. */
  WN_ERR_STATE_DIR: ExitCode.condor,
  /** condor_master could not be started or exited when it should not have. */
  WN_ERR_CONDOR_MASTER: ExitCode.condor,
  /** The startd did not appear in the collector within --startup-timeout. */
  WN_ERR_NOT_ADVERTISED: ExitCode.condor,
  /** An HTCondor command-line tool failed or timed out. */
  WN_ERR_CONDOR_TOOL: ExitCode.condor,
  /** A required CVMFS repository could not be mounted or read at start. */
  WN_ERR_CVMFS: ExitCode.cvmfs,
  /** --job-isolation required, but cgroups cannot be delegated or CAP_SYS_ADMIN is missing. */
  WN_ERR_ISOLATION: ExitCode.isolation,
  /** `wn-agent fleet`: the container engine cannot be reached or refused a call. */
  WN_ERR_FLEET_BACKEND: ExitCode.fleet,
  /** `wn-agent fleet upgrade --wait`: live workers still ran an older spec when the wait ended. */
  WN_ERR_FLEET_ROLLOUT: ExitCode.fleet,
  /** `wn-agent status`, `drain`, `tail`: no agent answered at the local socket or --url, or it refused the request. */
  WN_ERR_UNREACHABLE: ExitCode.unreachable,
  /** A bug: something the agent did not expect. */
  WN_ERR_INTERNAL: ExitCode.internal,
} as const satisfies Record<string, ExitCode>;

export type ErrorCode = keyof typeof codes;
export const errorCodes = Object.keys(codes) as ErrorCode[];

export class AgentError extends Error {
  override readonly name = 'AgentError';
  readonly code: ErrorCode;
  /** Extra facts for the operator (e.g. the last log lines seen), logged with the error. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  get exitCode(): ExitCode {
    return codes[this.code];
  }
}

export function exitCodeFor(error: unknown): ExitCode {
  return error instanceof AgentError ? error.exitCode : ExitCode.internal;
}

export function configError(message: string): AgentError {
  return new AgentError('WN_ERR_CONFIG', message);
}
