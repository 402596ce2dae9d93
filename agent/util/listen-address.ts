/**
 * A TCP listen address as the agent's and the fleet's options take it: host:port (an IPv6 host in brackets), port
 * 1-65535, or `off` (or empty). `invalid` for anything else: each caller names its own option in the error.
 */
export function parseListenAddress(value: string): { host: string; port: number } | 'off' | 'invalid' {
  const text = value.trim();
  if (text === '' || text === 'off') return 'off';
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) return 'invalid';
  return { host: (match[1] ?? '').replace(/^\[|\]$/g, ''), port };
}
