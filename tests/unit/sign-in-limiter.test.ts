/** The two stores of the admin sign-in limit, on a clock the test turns. */
import { describe, expect, it } from "vitest";
import {
  bindingSignInLimiter,
  CLOUDFLARE_SIGN_IN_LIMIT,
  MEMORY_SIGN_IN_LIMIT,
  memorySignInLimiter,
  signInKeys,
} from "../../functions/domain/sign-in-limiter";
import { clock, fakeBinding } from "../helpers/limiters";

describe("signInKeys", () => {
  it("keys an attempt by its address alone, never by any part of the token", () => {
    expect(signInKeys("192.0.2.1")).toEqual(["ip:192.0.2.1"]);
    expect(signInKeys(null)).toEqual(["ip:unknown"]);
  });
});

describe("memorySignInLimiter", () => {
  it("allows 10 failures in 5 minutes, then refuses until the oldest leaves the window", async () => {
    const time = clock();
    const limiter = memorySignInLimiter({ now: time.now });
    const keys = ["ip:a"];
    expect(MEMORY_SIGN_IN_LIMIT).toEqual({ failures: 10, windowSeconds: 300 });
    for (let i = 0; i < 10; i++) {
      expect(await limiter.check(keys)).toEqual({ allowed: true });
      await limiter.recordFailure(keys);
      time.advance(10_000);
    }
    // The first failure was 100 s ago: it leaves the window in 200 s.
    expect(await limiter.check(keys)).toEqual({ allowed: false, retryAfterSeconds: 200 });
    time.advance(199_000);
    expect((await limiter.check(keys)).allowed).toBe(false);
    time.advance(1_000);
    expect(await limiter.check(keys)).toEqual({ allowed: true });
    // One more failure fills the window again, until the second-oldest leaves it.
    await limiter.recordFailure(keys);
    expect(await limiter.check(keys)).toEqual({ allowed: false, retryAfterSeconds: 10 });
  });

  it("refuses when any key is over, with the longest wait", async () => {
    const time = clock();
    const limiter = memorySignInLimiter({ failures: 2, windowSeconds: 60, now: time.now });
    await limiter.recordFailure(["ip:a", "token:x"]);
    time.advance(30_000);
    await limiter.recordFailure(["ip:b", "token:x"]);
    await limiter.recordFailure(["ip:b"]);
    expect(await limiter.check(["ip:c", "token:x"])).toEqual({
      allowed: false,
      retryAfterSeconds: 30,
    });
    expect(await limiter.check(["ip:b", "token:x"])).toEqual({
      allowed: false,
      retryAfterSeconds: 60,
    });
    expect(await limiter.check(["ip:a", "token:y"])).toEqual({ allowed: true });
  });

  it("keeps at most maxKeys keys, forgetting the least recently failed, never the busy one", async () => {
    const limiter = memorySignInLimiter({ failures: 3, maxKeys: 5, now: clock().now });
    await limiter.recordFailure(["ip:attacker"]);
    for (let i = 0; i < 100; i++) await limiter.recordFailure(["ip:attacker", `token:${i}`]);
    expect((await limiter.check(["ip:attacker"])).allowed).toBe(false);
    // The prefixes invented first are gone; the last few are still counted.
    expect(await limiter.check(["token:0"])).toEqual({ allowed: true });
    await limiter.recordFailure(["token:99"]);
    await limiter.recordFailure(["token:99"]);
    expect((await limiter.check(["token:99"])).allowed).toBe(false);
  });
});

describe("bindingSignInLimiter", () => {
  it("counts every attempt at check, on every key, and refuses for the binding's period", async () => {
    const binding = fakeBinding(CLOUDFLARE_SIGN_IN_LIMIT.limit);
    const limiter = bindingSignInLimiter(binding);
    const keys = ["ip:a", "token:rgt_abcdefgh"];
    for (let i = 0; i < CLOUDFLARE_SIGN_IN_LIMIT.limit; i++) {
      expect(await limiter.check(keys)).toEqual({ allowed: true });
      await limiter.recordFailure(keys);
    }
    expect(binding.calls).toHaveLength(2 * CLOUDFLARE_SIGN_IN_LIMIT.limit);
    expect(await limiter.check(keys)).toEqual({
      allowed: false,
      retryAfterSeconds: CLOUDFLARE_SIGN_IN_LIMIT.periodSeconds,
    });
    expect(await limiter.check(["ip:b", "token:other"])).toEqual({ allowed: true });
  });
});
