/**
 * Limits failed sign-ins at `/admin/login` per client address, so that a client can neither
 * guess tokens quickly nor flood the page with lookups. Never per token, nor by any part of one:
 * failures sent from one address with a victim's first characters would otherwise lock the
 * victim out at another (and 256-bit tokens leave nothing to gain from guessing one token from
 * many addresses). One interface, two
 * stores: this process's memory (`npm start`, and a Worker without the binding), and
 * Cloudflare's rate-limit binding (the API Worker, declared in infra/api.ts).
 */

/** What a limiter says about an attempt before the token is looked up. */
export type SignInDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface SignInLimiter {
  /**
   * Whether an attempt under these keys may proceed; when not, how many seconds until one may.
   * A store that cannot look without counting (Cloudflare's binding) counts the attempt here.
   */
  check(keys: readonly string[]): Promise<SignInDecision>;
  /** Counts one failed attempt against every key. */
  recordFailure(keys: readonly string[]): Promise<void>;
}

/** The keys of one attempt: its client address (all unknown addresses share one key). */
export function signInKeys(ip: string | null): string[] {
  return [`ip:${ip ?? "unknown"}`];
}

/**
 * In memory: 10 failures per key in any 5 minutes. A person who mistypes or pastes the wrong
 * token fails two or three times; 10 leaves room for that and a colleague behind the same
 * address, while one address gets at most 2 guesses a minute (about 2,900 a day) against
 * 256-bit tokens. The window slides, so Retry-After is exact: the moment the oldest counted
 * failure leaves it.
 */
export const MEMORY_SIGN_IN_LIMIT = { failures: 10, windowSeconds: 5 * 60 } as const;

/**
 * On Cloudflare: 5 attempts per key per minute. The binding's periods are 10 or 60 seconds,
 * and it counts every attempt (it cannot look without counting), successful ones included,
 * so the limit is per minute and a little above what a person needs, typos and all.
 */
export const CLOUDFLARE_SIGN_IN_LIMIT = {
  /** The binding's name in the API Worker's env: SST names a linked binding after its component. */
  binding: "SignInLimit",
  limit: 5,
  periodSeconds: 60,
} as const;

/** Keys remembered at most; beyond it the least recently failed key is forgotten first. */
const MEMORY_MAX_KEYS = 10_000;

/**
 * A sliding-window limiter in this process's memory: each key keeps the times of its last
 * `failures` failures. Bounded to `maxKeys` keys, least recently failed first out.
 */
export function memorySignInLimiter(
  options: { failures?: number; windowSeconds?: number; maxKeys?: number; now?: () => number } = {},
): SignInLimiter {
  const failures = options.failures ?? MEMORY_SIGN_IN_LIMIT.failures;
  const windowMs = (options.windowSeconds ?? MEMORY_SIGN_IN_LIMIT.windowSeconds) * 1000;
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

/**
 * Cloudflare's rate-limit binding: counters shared by every isolate of a Cloudflare location,
 * which an in-isolate limiter could not see. Its one call counts as it answers, so every
 * attempt is counted at `check` and `recordFailure` has nothing left to do. Cloudflare does
 * not say when a key frees up; the period is the longest it can take.
 */
export function bindingSignInLimiter(
  binding: RateLimitBinding,
  periodSeconds: number = CLOUDFLARE_SIGN_IN_LIMIT.periodSeconds,
): SignInLimiter {
  return {
    async check(keys) {
      const outcomes = await Promise.all(keys.map((key) => binding.limit({ key })));
      return outcomes.every((outcome) => outcome.success)
        ? { allowed: true }
        : { allowed: false, retryAfterSeconds: periodSeconds };
    },
    async recordFailure() {},
  };
}
