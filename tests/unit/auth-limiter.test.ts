/** The two stores of the API's failed-authentication limit, on a clock the test turns. */
import { describe, expect, it } from "vitest";
import {
  bindingAuthLimiter,
  CLOUDFLARE_AUTH_LIMIT,
  DEFAULT_AUTH_FAILURE_LIMIT,
  memoryAuthLimiter,
} from "../../functions/domain/auth-limiter";
import { addressKeys, MEMORY_MAX_KEYS } from "../../functions/domain/failure-limiter";
import { clock, fakeBinding } from "../helpers/limiters";

describe("addressKeys", () => {
  it("keys a request by its address alone; requests without one share a key", () => {
    expect(addressKeys("192.0.2.1")).toEqual(["ip:192.0.2.1"]);
    expect(addressKeys(null)).toEqual(["ip:unknown"]);
  });
});

describe("memoryAuthLimiter", () => {
  it("refuses an address after its configured failures until the oldest leaves the window", async () => {
    expect(DEFAULT_AUTH_FAILURE_LIMIT).toEqual({ failures: 20, windowSeconds: 60 });
    const time = clock();
    const limiter = memoryAuthLimiter({ failures: 3, windowSeconds: 2 }, { now: time.now });
    const keys = addressKeys("192.0.2.1");
    for (let i = 0; i < 3; i++) {
      expect(await limiter.check(keys)).toEqual({ allowed: true });
      await limiter.recordFailure(keys);
      time.advance(100);
    }
    // The first failure was 300 ms ago: it leaves the 2-second window in 1.7 s.
    expect(await limiter.check(keys)).toEqual({ allowed: false, retryAfterSeconds: 2 });
    expect(await limiter.check(addressKeys("192.0.2.2"))).toEqual({ allowed: true });
    time.advance(1_700);
    expect(await limiter.check(keys)).toEqual({ allowed: true });
  });
});

describe("bindingAuthLimiter", () => {
  it("calls the binding only on failures, then refuses the address in the isolate for the period", async () => {
    const time = clock();
    const binding = fakeBinding(2);
    const blocked = new Map<string, number>();
    const limiter = bindingAuthLimiter(binding, blocked, { now: time.now });
    const keys = addressKeys("192.0.2.1");
    // Asking is free: successful calls never reach the binding.
    for (let i = 0; i < 50; i++) expect(await limiter.check(keys)).toEqual({ allowed: true });
    expect(binding.calls).toEqual([]);
    // Two failures are within the binding's limit; the third is refused by it.
    await limiter.recordFailure(keys);
    await limiter.recordFailure(keys);
    expect(await limiter.check(keys)).toEqual({ allowed: true });
    await limiter.recordFailure(keys);
    expect(binding.calls).toEqual(["ip:192.0.2.1", "ip:192.0.2.1", "ip:192.0.2.1"]);
    expect(await limiter.check(keys)).toEqual({
      allowed: false,
      retryAfterSeconds: CLOUDFLARE_AUTH_LIMIT.periodSeconds,
    });
    // Refused without asking the binding again; another address is not held up.
    expect(binding.calls).toHaveLength(3);
    expect(await limiter.check(addressKeys("192.0.2.2"))).toEqual({ allowed: true });
    time.advance(45_500);
    expect(await limiter.check(keys)).toEqual({ allowed: false, retryAfterSeconds: 15 });
    time.advance(14_500);
    expect(await limiter.check(keys)).toEqual({ allowed: true });
    expect(blocked.size).toBe(0);
  });

  it("shares what it learnt with every request of the isolate, through the map it is given", async () => {
    const binding = fakeBinding(0);
    const blocked = new Map<string, number>();
    const time = clock();
    await bindingAuthLimiter(binding, blocked, { now: time.now }).recordFailure(["ip:a"]);
    const next = bindingAuthLimiter(binding, blocked, { now: time.now });
    expect((await next.check(["ip:a"])).allowed).toBe(false);
  });

  it("keeps at most as many refused addresses as the in-memory store keeps keys", async () => {
    const blocked = new Map<string, number>();
    const time = clock();
    const limiter = bindingAuthLimiter(fakeBinding(0), blocked, { now: time.now });
    for (let i = 0; i < MEMORY_MAX_KEYS + 5; i++) {
      await limiter.recordFailure([`ip:${i}`]);
      time.advance(1);
    }
    expect(blocked.size).toBe(MEMORY_MAX_KEYS);
    // The soonest freed went first; the latest is still refused.
    expect((await limiter.check(["ip:0"])).allowed).toBe(true);
    expect((await limiter.check([`ip:${MEMORY_MAX_KEYS + 4}`])).allowed).toBe(false);
  });
});
