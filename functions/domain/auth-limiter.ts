/**
 * Limits failed authentications at the API per client address: past the limit, every request
 * from that address to a signed-in route is refused (429) before its credential is looked at,
 * so that one address can neither guess credentials nor make the database look up one wrong
 * token after another. Only failures count (an unknown, revoked, malformed or expired
 * credential, an Access token that fails verification); a request without credentials and a
 * known caller refused a role do not, and successful calls cost nothing. Keyed by address alone
 * (`addressKeys`). One interface, two stores: this process's memory (`npm start`, and a Worker
 * without the binding), and Cloudflare's rate-limit binding beside the addresses an isolate has
 * seen it refuse (the API Worker, declared in infra/api.ts).
 */
import {
  type FailureLimiter,
  MEMORY_MAX_KEYS,
  memoryFailureLimiter,
  type RateLimitBinding,
} from "./failure-limiter";

/** How many failures an address may make within how many seconds. */
export interface AuthFailureLimit {
  failures: number;
  windowSeconds: number;
}

/**
 * 20 failures per address in any minute. API clients are programs: one with a wrong or revoked
 * token fails on every call, and a retrying one is stopped within a minute instead of costing
 * the database a lookup per call for as long as it runs. 20 leaves room for a person trying a
 * few tokens by hand, and for several clients behind one address failing a few times each.
 * Against 256-bit tokens, 20 guesses a minute are nothing.
 */
export const DEFAULT_AUTH_FAILURE_LIMIT: AuthFailureLimit = { failures: 20, windowSeconds: 60 };

/**
 * On Cloudflare: 20 failures per address per minute, counted by the binding, whose periods are
 * 10 or 60 seconds. It is called on failures only (it counts every call), so successful calls
 * never reach it.
 */
export const CLOUDFLARE_AUTH_LIMIT = {
  /** The binding's name in the API Worker's env: SST names a linked binding after its component. */
  binding: "AuthFailureLimit",
  limit: DEFAULT_AUTH_FAILURE_LIMIT.failures,
  periodSeconds: 60,
} as const;

/** The in-memory store: a sliding window, so Retry-After is exact. */
export function memoryAuthLimiter(
  limit: AuthFailureLimit,
  options: { now?: () => number } = {},
): FailureLimiter {
  return memoryFailureLimiter({ ...limit, ...options });
}

/**
 * Cloudflare's rate-limit binding, whose counters every isolate of a Cloudflare location
 * shares. It counts each call and cannot look without counting, so it is called only when a
 * failure is recorded. Once it refuses a key, this isolate refuses that key on its own until
 * `blocked` says so (a period from then: Cloudflare does not say when a key frees up), without
 * a call to the binding or the database. `blocked` outlives the request (an isolate's map) and
 * is bounded like the in-memory store, the soonest freed key forgotten first.
 */
export function bindingAuthLimiter(
  binding: RateLimitBinding,
  blocked: Map<string, number>,
  options: { periodSeconds?: number; now?: () => number } = {},
): FailureLimiter {
  const periodMs = (options.periodSeconds ?? CLOUDFLARE_AUTH_LIMIT.periodSeconds) * 1000;
  const now = options.now ?? Date.now;
  return {
    async check(keys) {
      const at = now();
      let until = at;
      for (const key of keys) {
        const end = blocked.get(key);
        if (end === undefined) continue;
        if (end <= at) blocked.delete(key);
        else until = Math.max(until, end);
      }
      return until > at
        ? { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((until - at) / 1000)) }
        : { allowed: true };
    },
    async recordFailure(keys) {
      const outcomes = await Promise.all(keys.map((key) => binding.limit({ key })));
      const until = now() + periodMs;
      keys.forEach((key, i) => {
        if (outcomes[i]?.success !== false) return;
        // Re-inserted, so that the map's order is soonest freed first.
        blocked.delete(key);
        blocked.set(key, until);
      });
      for (const key of blocked.keys()) {
        if (blocked.size <= MEMORY_MAX_KEYS) break;
        blocked.delete(key);
      }
    },
  };
}
