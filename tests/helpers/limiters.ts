/**
 * What the limiter tests stand on: a clock the test turns, and a stand-in for Cloudflare's
 * RateLimit binding as its documentation describes it (each call counts, then answers).
 */
import type { RateLimitBinding } from "../../functions/domain/failure-limiter";

export function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

export function fakeBinding(limit: number): RateLimitBinding & { calls: string[] } {
  const counts = new Map<string, number>();
  const calls: string[] = [];
  return {
    calls,
    async limit({ key }) {
      calls.push(key);
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return { success: n <= limit };
    },
  };
}
