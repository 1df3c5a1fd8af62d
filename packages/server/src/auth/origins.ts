// Browser origin allowlists. Socket.IO's `cors` option does not stop a cross-origin WebSocket,
// so the relay checks the Origin header itself for polling and WebSocket upgrades alike.

/** True when `origin` matches `pattern`; a pattern ending in `:*` accepts any port (or none). */
export function originMatches(pattern: string, origin: string): boolean {
  if (!pattern.endsWith(':*')) return pattern === origin;
  const base = pattern.slice(0, -2);
  if (origin === base) return true;
  if (!origin.startsWith(`${base}:`)) return false;
  return /^\d{1,5}$/.test(origin.slice(base.length + 1));
}

export function originAllowed(patterns: readonly string[], origin: string): boolean {
  return patterns.some((pattern) => originMatches(pattern, origin));
}
