/**
 * Refusals that prove no identity are counted, not audited, and the counts are kept 30 days:
 * the worker prunes older ones, a bounded number per invocation.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { recordAuthRefusal } from "../../functions/domain/auth-refusals";
import { pruneExpiredRecords } from "../../functions/domain/retention";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { freshDatabase, type TestDatabase } from "../helpers/db";

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase();
});

const rows = async (ip: string) =>
  (
    await t.raw.query(
      "SELECT reason, count, last_path FROM auth_refusals WHERE ip = $1 ORDER BY hour, reason",
      [ip],
    )
  ).rows;

/** A count as an earlier hour left it. */
const insertOld = (ip: string, daysAgo: number) =>
  t.raw.query(
    `INSERT INTO auth_refusals (hour, ip, reason, count, last_path, last_seen_at)
     VALUES (date_trunc('hour', now() - make_interval(days => $2)), $1, 'missing', 3, '/api/admin/jobs',
             now() - make_interval(days => $2))`,
    [ip, daysAgo],
  );

describe("auth_refusals", () => {
  it("counts refusals per hour, address and reason, keeping the last path", async () => {
    await recordAuthRefusal(t.db, { ip: "192.0.2.1", reason: "missing", path: "/api/a" });
    await recordAuthRefusal(t.db, { ip: "192.0.2.1", reason: "missing", path: "/api/b" });
    await recordAuthRefusal(t.db, { ip: "192.0.2.1", reason: "token:unknown", path: "/api/c" });
    await recordAuthRefusal(t.db, { ip: null, reason: "missing", path: `/api/${"x".repeat(400)}` });
    expect(await rows("192.0.2.1")).toEqual([
      { reason: "missing", count: 2, last_path: "/api/b" },
      { reason: "token:unknown", count: 1, last_path: "/api/c" },
    ]);
    const [unknown] = await rows("unknown");
    expect(unknown?.last_path).toHaveLength(300);
  });

  it("counts concurrent refusals without losing one", async () => {
    await Promise.all(
      Array.from({ length: 40 }, () =>
        recordAuthRefusal(t.db, { ip: "192.0.2.2", reason: "missing", path: "/api/x" }),
      ),
    );
    expect(await rows("192.0.2.2")).toEqual([
      { reason: "missing", count: 40, last_path: "/api/x" },
    ]);
  });

  it("is pruned by the worker after 30 days, a bounded number per call", async () => {
    for (const days of [31, 45, 400]) await insertOld("192.0.2.3", days);
    await insertOld("192.0.2.3", 29);
    expect(await pruneExpiredRecords(t.db, 2)).toEqual({ authRefusals: 2, idempotencyKeys: 0 });
    expect(await rows("192.0.2.3")).toHaveLength(2);
    const result = await runWorkerInvocation(t.db, {
      budgetMs: 1000,
      concurrency: 1,
      batchSize: 1,
      log: () => {},
    });
    expect(result.claimed).toBe(0);
    const left = await t.raw.query(
      "SELECT round(extract(epoch FROM now() - hour) / 86400)::int AS days FROM auth_refusals WHERE ip = '192.0.2.3'",
    );
    expect(left.rows).toEqual([{ days: 29 }]);
  });
});
