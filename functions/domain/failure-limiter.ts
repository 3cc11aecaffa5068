/**
 * What the admin sign-in limit (sign-in-limiter.ts) and the API's failed-authentication limit
 * (auth-limiter.ts) have in common: a limiter that is asked before a credential is looked at
 * and told of each failure, keyed by client address, and the sliding window that holds the
 * failures in this process's memory.
 */

/** What a limiter says about a request before its credential is looked at. */
export type LimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface FailureLimiter {
  /**
   * Whether a request under these keys may proceed; when not, how many seconds until one may.
   * A store that cannot look without counting (Cloudflare's binding) counts the request here.
   */
  check(keys: readonly string[]): Promise<LimitDecision>;
  /** Counts one failure against every key. */
  recordFailure(keys: readonly string[]): Promise<void>;
}

/**
 * The keys of a request: its client address. Never any part of a credential: failures sent
 * from one address with a victim's first characters would otherwise lock the victim out at
 * another. Requests without an address share one key. No client that can read an answer lacks
 * an address (Cloudflare sets `Cf-Connecting-IP` on every request it routes to a Worker, and
 * Node knows the peer of a connection that is open), so that key holds only clients that reset
 * the connection right after sending, which must not escape the limit by doing so, and the
 * tests' own requests.
 */
export function addressKeys(ip: string | null): string[] {
  return [`ip:${ip ?? "unknown"}`];
}

/** Keys remembered at most; beyond it the least recently failed key is forgotten first. */
export const MEMORY_MAX_KEYS = 10_000;

/**
 * A sliding-window limiter in this process's memory: each key keeps the times of its last
 * `failures` failures, and is refused while `failures` of them lie within the window, until
 * the oldest leaves it (so Retry-After is exact). Bounded to `maxKeys` keys, least recently
 * failed first out.
 */
export function memoryFailureLimiter(options: {
  failures: number;
  windowSeconds: number;
  maxKeys?: number;
  now?: () => number;
}): FailureLimiter {
  const { failures } = options;
  const windowMs = options.windowSeconds * 1000;
  const maxKeys = options.maxKeys ?? MEMORY_MAX_KEYS;
  const now = options.now ?? Date.now;
  const recent = new Map<string, number[]>();

  const within = (key: string, at: number): number[] => {
    const times = (recent.get(key) ?? []).filter((t) => t > at - windowMs);
    if (times.length === 0) recent.delete(key);
    return times;
  };

  return {
    async check(keys) {
      const at = now();
      let waitMs = 0;
      for (const key of keys) {
        const times = within(key, at);
        const oldest = times[0];
        if (times.length >= failures && oldest !== undefined) {
          waitMs = Math.max(waitMs, oldest + windowMs - at);
        }
      }
      return waitMs > 0
        ? { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) }
        : { allowed: true };
    },
    async recordFailure(keys) {
      const at = now();
      for (const key of keys) {
        const times = within(key, at);
        times.push(at);
        // Re-inserted, so that the map's order is least recently failed first.
        recent.delete(key);
        recent.set(key, times.slice(-failures));
      }
      for (const key of recent.keys()) {
        if (recent.size <= maxKeys) break;
        recent.delete(key);
      }
    },
  };
}

/** Cloudflare's rate-limit binding, as the Workers runtime hands it to the entry. */
export interface RateLimitBinding {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}
