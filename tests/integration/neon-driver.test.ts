import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../db/client";
import type { Database } from "../../db/types";
import { pgErrorOf } from "../../functions/domain/errors";
import { getLineage } from "../../functions/domain/jobs";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, failedJob } from "../helpers/fixtures";
import { startWsProxy } from "../helpers/ws-proxy";

/** The Workers driver path — Neon serverless over WebSocket, NEON_WS_PROXY — against real PostgreSQL. */
let t: TestDatabase;
let neon: Database;
let proxy: Awaited<ReturnType<typeof startWsProxy>>;

beforeAll(async () => {
  t = await freshDatabase();
  proxy = await startWsProxy();
  neon = await connect({ url: t.url, driver: "neon", wsProxy: proxy.address, max: 10 });
});
afterAll(async () => {
  await neon?.close();
  await proxy?.close();
});

describe("the Neon serverless driver through NEON_WS_PROXY", () => {
  it("runs the retry service's interactive transaction", async () => {
    expect(neon.kind).toBe("neon");
    const original = await failedJob(neon.db);
    const intent = await createRetryIntent(neon.db, admin, {
      sourceJobId: original.id,
      reasonCode: "OTHER",
      reasonText: "via neon",
    });
    const { job } = await createRetryJobFromIntent(neon.db, admin, intent.id);
    expect((await getLineage(t.db, job.id)).map((l) => l.job.id)).toEqual([original.id, job.id]);
  });

  it("keeps exactly-once under concurrency: 10 executes of one intent make one job", async () => {
    const original = await failedJob(neon.db);
    const intent = await createRetryIntent(neon.db, admin, {
      sourceJobId: original.id,
      reasonCode: "OTHER",
      reasonText: "race",
    });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => createRetryJobFromIntent(neon.db, admin, intent.id)),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const { rows } = await t.raw.query(
      "SELECT count(*)::int AS n FROM regeneration_jobs WHERE retry_intent_id = $1",
      [intent.id],
    );
    expect(rows[0].n).toBe(1);
  });

  it("surfaces the database's refusals with their SQLSTATE, as node-postgres does", async () => {
    const original = await failedJob(neon.db);
    const error = await neon.db
      .execute(sql`UPDATE regeneration_jobs SET input = '{}' WHERE id = ${original.id}`)
      .catch((e: unknown) => e);
    expect(pgErrorOf(error)).toMatchObject({
      code: "RG001",
      message: expect.stringMatching(/finished job never changes/),
    });
  });
});
