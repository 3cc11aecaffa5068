/**
 * The bounds any generator's report of a service's answer is held to before a job's error keeps
 * it, and how the page words an attempt's duration: pure functions, no database.
 */
import { describe, expect, it } from "vitest";
import { UPSTREAM_EXCERPT_CHARS, type UpstreamAnswer } from "../../db/schema";
import { GeneratorError } from "../../functions/execution/generators";
import { formatDuration } from "../../web/components/duration";

const answer = (excerpt: string | null, extra: Partial<UpstreamAnswer> = {}): UpstreamAnswer => ({
  status: 503,
  statusText: "Service Unavailable",
  contentType: "text/plain",
  excerpt,
  truncated: false,
  ...extra,
});

describe("GeneratorError's upstream answer", () => {
  it("cuts the body to UPSTREAM_EXCERPT_CHARS and says it did", () => {
    const { upstream } = new GeneratorError("X", "m", answer("y".repeat(5000)));
    expect(upstream?.excerpt).toHaveLength(UPSTREAM_EXCERPT_CHARS);
    expect(upstream?.truncated).toBe(true);
  });

  it("never cuts inside a surrogate pair, which jsonb would refuse", () => {
    const text = `${"y".repeat(UPSTREAM_EXCERPT_CHARS - 1)}😀tail`;
    const excerpt = new GeneratorError("X", "m", answer(text)).upstream?.excerpt ?? "";
    expect(excerpt).toBe("y".repeat(UPSTREAM_EXCERPT_CHARS - 1));
    expect(excerpt.isWellFormed()).toBe(true);
  });

  it("drops control characters, U+0000 among them, and keeps the body's lines and tabs", () => {
    const { upstream } = new GeneratorError(
      "X",
      "m",
      answer("a\r\nb\tc\u0000d\u001be\u0085f", {
        statusText: "Service\r\nX-Injected: 1",
        contentType: "text/plain\u0000",
      }),
    );
    expect(upstream?.excerpt).toBe("a\nb\tcdef");
    expect(upstream?.statusText).toBe("Service X-Injected: 1");
    expect(upstream?.contentType).toBe("text/plain ");
  });

  it("keeps a body that is not text as null, and leaves the error without one alone", () => {
    expect(new GeneratorError("X", "m", answer(null)).upstream?.excerpt).toBeNull();
    expect(new GeneratorError("X", "m").upstream).toBeUndefined();
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0 ms"],
    [840.6, "840 ms"],
    [4250, "4.2 s"],
    [42_999, "42 s"],
    [192_000, "3 min 12 s"],
    [180_000, "3 min"],
    [7_500_000, "2 h 5 min"],
    [273_600_000, "3 d 4 h"],
  ])("words %d ms as %s", (ms, words) => {
    expect(formatDuration(ms)).toBe(words);
  });
});
