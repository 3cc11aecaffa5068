/** The parts of the signals that need no database: the text format, the signature, the chart's scale. */
import parsePrometheus from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { signDigest } from "../../functions/execution/alerts";
import { exposition } from "../../functions/http/prometheus";
import { niceCeiling } from "../../web/components/chart";
import { formatWait, successRate } from "../../web/pages/signals-page";

describe("exposition", () => {
  it("escapes label values and help text so that a parser reads back what was meant", () => {
    const text = exposition([
      {
        name: "x_total",
        help: "a back\\slash and a\nline feed",
        type: "counter",
        samples: [
          { labels: { a: 'quote " back \\ feed \n end', b: "plain" }, value: 2 },
          { labels: { a: "", b: "ünïcödé" }, value: 0.25 },
        ],
      },
      { name: "y", help: "no labels", type: "gauge", samples: [{ value: Number.NaN }] },
    ]);
    expect(text).toBe(
      [
        "# HELP x_total a back\\\\slash and a\\nline feed",
        "# TYPE x_total counter",
        'x_total{a="quote \\" back \\\\ feed \\n end",b="plain"} 2',
        'x_total{a="",b="ünïcödé"} 0.25',
        "# HELP y no labels",
        "# TYPE y gauge",
        "y NaN",
        "",
      ].join("\n"),
    );
    const [x] = parsePrometheus(text);
    expect(x?.help).toBe("a back\\slash and a\nline feed");
    expect(x?.metrics[0]?.labels).toEqual({ a: 'quote " back \\ feed \n end', b: "plain" });
  });
});

describe("signDigest", () => {
  it("is HMAC-SHA256 in lower-case hex (RFC 4231, test case 2)", async () => {
    expect(await signDigest("Jefe", "what do ya want for nothing?")).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });
});

describe("the signals page's arithmetic", () => {
  it("rounds the chart's scale up to 1, 2 or 5 times a power of ten", () => {
    expect([0, 1, 2, 3, 7, 10, 11, 40, 51, 999].map(niceCeiling)).toEqual([
      1, 1, 2, 5, 10, 10, 20, 50, 100, 1000,
    ]);
  });

  it("takes the success rate over finished retries only", () => {
    expect(successRate(0, 0)).toBeUndefined();
    expect(successRate(1, 2)).toBe("33 %");
    expect(successRate(4, 0)).toBe("100 %");
  });

  it("says a wait in its two largest units", () => {
    expect([12, 125, 3600, 3725, 86_400, 90_000].map(formatWait)).toEqual([
      "12 s",
      "2 min",
      "1 h",
      "1 h 2 min",
      "1 d",
      "1 d 1 h",
    ]);
  });
});
