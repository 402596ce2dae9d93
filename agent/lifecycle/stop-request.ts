export type StopReason = 'signal' | 'drain-request' | 'idle' | 'accept-jobs-for' | 'max-lifetime';

export interface StopRequest {
  reason: StopReason;
  signal?: NodeJS.Signals;
  /** Drain deadline for this request (a `wn-agent drain --timeout` may set its own). */
  drainTimeoutMs: number;
}

/**
 * The first request to stop wins and decides the reason; any later one (a second SIGTERM, another drain) hurries the
 * drain to its deadline.
 */
export class StopController {
  readonly requested: Promise<StopRequest>;
  readonly hurry = new AbortController();
  first: StopRequest | undefined;
  private resolve: (request: StopRequest) => void = () => {};

  constructor() {
    this.requested = new Promise((resolve) => (this.resolve = resolve));
  }

  request(request: StopRequest): 'accepted' | 'hurried' {
    if (this.first === undefined) {
      this.first = request;
      this.resolve(request);
      return 'accepted';
    }
    this.hurry.abort();
    return 'hurried';
  }
}
