/**
 * The one-statement reads receive their rows as `to_jsonb(row)` and rebuild them with
 * rowFromJson. Whoever renders a row must not be able to tell: for every table such a read
 * returns, the rebuilt row equals what a Drizzle select of the same row gives, key for key
 * and type for type, on values chosen to trip a naive mapping (JSON strings that look like
 * numbers or JSON, microsecond timestamps, big identities, the xid8 of an audit event).
 */
import { eq, getTableColumns, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  auditEvents,
  regenerationJobs,
  regenerationOutputs,
  retryBatches,
  retryIntents,
} from "../../db/schema";
import { rowsOf } from "../../db/types";
import { submitJob } from "../../functions/domain/jobs";
import { rowFromJson } from "../../functions/domain/json-rows";
import { createRetryBatch, previewRetryBatch } from "../../functions/domain/retry-batches";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, completeJob, failedJobOf, pendingIntent, submitter } from "../helpers/fixtures";

let t: TestDatabase;

beforeAll(async () => {
  t = await freshDatabase();
});

/** Every row of `table` whose `key` column is `value`, both ways, side by side. */
async function bothWays(table: PgTable, where: ReturnType<typeof eq>) {
  const selected = await t.db.select().from(table).where(where);
  const result = await t.db.execute(
    sql`SELECT to_jsonb(${table}) AS row FROM ${table} WHERE ${where}`,
  );
  const rebuilt = rowsOf<{ row: Record<string, unknown> }>(result).map((r) =>
    rowFromJson(table, r.row),
  );
  return { selected, rebuilt };
}

describe("rowFromJson", () => {
  it("rebuilds jobs exactly, whatever JSON their input holds", async () => {
    const inputs: unknown[] = [
      "",
      "plain text",
      12345678901234,
      0.1,
      [1, "two", null, { three: [] }],
      { text: "naïve ☃ \u2028", nested: { deep: [true, false, null] } },
      false,
    ];
    for (const input of inputs) {
      const job = await submitJob(t.db, submitter, { generator: "http", input });
      const { selected, rebuilt } = await bothWays(
        regenerationJobs,
        eq(regenerationJobs.id, job.id),
      );
      expect(rebuilt).toEqual(selected);
      expect(Object.keys(rebuilt[0] ?? {})).toEqual(Object.keys(getTableColumns(regenerationJobs)));
      expect(rebuilt[0]?.input).toStrictEqual(input);
    }
  });

  it("keeps a JSON string that reads as JSON a string, as it was stored and submitted", async () => {
    // Drizzle's own select parses a jsonb string value a second time ("123" comes back as
    // 123); the rebuilt row keeps the value PostgreSQL holds, which is what submit answered.
    for (const input of ["123", '{"looks":"like json"}', "true"]) {
      const job = await submitJob(t.db, submitter, { generator: "http", input });
      const { selected, rebuilt } = await bothWays(
        regenerationJobs,
        eq(regenerationJobs.id, job.id),
      );
      const stored = await t.raw.query("SELECT input FROM regeneration_jobs WHERE id = $1", [
        job.id,
      ]);
      expect(stored.rows[0].input).toBe(input);
      expect(job.input).toBe(input);
      expect(rebuilt).toEqual([{ ...selected[0], input }]);
    }
  });

  it("turns timestamps (kept to the microsecond) into the dates Drizzle makes, nulls into nulls", async () => {
    const job = await failedJobOf(t.db, "demo", "ROWS_TEST");
    const { selected, rebuilt } = await bothWays(regenerationJobs, eq(regenerationJobs.id, job.id));
    expect(rebuilt).toEqual(selected);
    const { rows } = await t.raw.query(
      "SELECT to_jsonb(finished_at) #>> '{}' AS text FROM regeneration_jobs WHERE id = $1",
      [job.id],
    );
    expect(rows[0].text).toMatch(/\.\d{4,6}/);
    const [job0] = rebuilt as (typeof regenerationJobs.$inferSelect)[];
    expect(job0?.finishedAt).toBeInstanceOf(Date);
    expect(job0?.finishedAt).toEqual(selected[0]?.finishedAt);
    expect(rebuilt[0]?.retryOfJobId).toBeNull();
    expect(rebuilt[0]?.error).toEqual({ code: "ROWS_TEST", message: "failed in a test" });
  });

  it("rebuilds outputs, intents, batches and audit events exactly", async () => {
    const done = await submitJob(t.db, submitter, { generator: "demo", input: { text: "out" } });
    await completeJob(t.db, done.id, "a string output");
    const outputs = await bothWays(regenerationOutputs, eq(regenerationOutputs.jobId, done.id));
    expect(outputs.rebuilt).toEqual(outputs.selected);
    expect(outputs.rebuilt[0]?.content).toBe("a string output");

    const intentId = await pendingIntent(t.db);
    const intents = await bothWays(retryIntents, eq(retryIntents.id, intentId));
    expect(intents.rebuilt).toEqual(intents.selected);

    await failedJobOf(t.db, "demo", "ROWS_BATCH");
    const filter = { errorCode: "ROWS_BATCH" };
    const preview = await previewRetryBatch(t.db, filter);
    const batch = await createRetryBatch(t.db, admin, {
      filter,
      previewToken: preview.previewToken,
      reasonCode: "OTHER",
      reasonText: "rows",
    });
    const batches = await bothWays(retryBatches, eq(retryBatches.id, batch.id));
    expect(batches.rebuilt).toEqual(batches.selected);
    const batchIntents = await bothWays(retryIntents, eq(retryIntents.batchId, batch.id));
    expect(batchIntents.rebuilt).toEqual(batchIntents.selected);

    const events = await bothWays(auditEvents, eq(auditEvents.subjectId, intentId));
    expect(events.rebuilt.length).toBeGreaterThan(0);
    expect(events.rebuilt).toEqual(events.selected);
    expect(typeof events.rebuilt[0]?.id).toBe("number");
    expect(typeof events.rebuilt[0]?.txId).toBe("string");
  });
});
