/**
 * Limits failed sign-ins at `/admin/login` per client address, so that a client can neither
 * guess tokens quickly nor flood the page with lookups. Never per token, nor by any part of one
 * (see `addressKeys`; 256-bit tokens leave nothing to gain from guessing one token from many
 * addresses). One interface, two stores: this process's memory (`npm start`, and a Worker
 * without the binding), and Cloudflare's rate-limit binding (the API Worker, declared in
 * infra/api.ts).
 */
import {
  addressKeys,
  type FailureLimiter,
  type LimitDecision,
  memoryFailureLimiter,
  type RateLimitBinding,
} from "./failure-limiter";

export type { RateLimitBinding } from "./failure-limiter";

/** What a limiter says about an attempt before the token is looked up. */
export type SignInDecision = LimitDecision;

export type SignInLimiter = FailureLimiter;

/** The keys of one attempt: its client address (all unknown addresses share one key). */
export const signInKeys = addressKeys;

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

/** The in-memory store, with MEMORY_SIGN_IN_LIMIT unless told otherwise. */
export function memorySignInLimiter(
  options: { failures?: number; windowSeconds?: number; maxKeys?: number; now?: () => number } = {},
): SignInLimiter {
  return memoryFailureLimiter({
    ...options,
    failures: options.failures ?? MEMORY_SIGN_IN_LIMIT.failures,
    windowSeconds: options.windowSeconds ?? MEMORY_SIGN_IN_LIMIT.windowSeconds,
  });
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
