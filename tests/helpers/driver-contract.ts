import { sql } from "drizzle-orm";
import { expect, it } from "vitest";
import type { Database } from "../../db/types";
import { pgErrorOf } from "../../functions/domain/errors";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import type { TestDatabase } from "./db";
import { admin, failedJob } from "./fixtures";

/**
 * What every Workers driver must keep, whatever carries its statements: an intent executed
 * by ten at once yields one job, and the database's refusals reach the caller with their
 * SQLSTATE. `driver` and `t` are read when the tests run, after the file's beforeAll.
 */
export function itKeepsTheDatabaseContract(driver: () => Database, t: () => TestDatabase): void {
  it("keeps exactly-once under concurrency: 10 executes of one intent make one job", async () => {
    const { db } = driver();
    const original = await failedJob(t().db);
    const intent = await createRetryIntent(db, admin, {
      sourceJobId: original.id,
      reasonCode: "OTHER",
      reasonText: "race",
    });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => createRetryJobFromIntent(db, admin, intent.id)),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const { rows } = await t().raw.query(
      "SELECT count(*)::int AS n FROM regeneration_jobs WHERE retry_intent_id = $1",
      [intent.id],
    );
    expect(rows[0].n).toBe(1);
  });

  it("surfaces the database's refusals with their SQLSTATE, as node-postgres does", async () => {
    const original = await failedJob(t().db);
    const error = await driver()
      .db.execute(sql`UPDATE regeneration_jobs SET input = '{}' WHERE id = ${original.id}`)
      .catch((e: unknown) => e);
    expect(pgErrorOf(error)).toMatchObject({
      code: "RG001",
      message: expect.stringMatching(/finished job never changes/),
    });
  });
}
