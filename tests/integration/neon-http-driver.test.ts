import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNeonHttp } from "../../db/neon";
import type { Database } from "../../db/types";
import { submitJob } from "../../functions/domain/jobs";
import { jobDetail } from "../../functions/domain/read-models";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { itKeepsTheDatabaseContract } from "../helpers/driver-contract";
import { admin, failedJob, submitter } from "../helpers/fixtures";
import { startNeonHttp } from "../helpers/neon-http";

/**
 * The API Worker's DATABASE_DRIVER=http — Neon's SQL-over-HTTP through `neon()` — against real
 * PostgreSQL behind a stand-in for Neon's endpoint. No sessions: each statement is a request,
 * so the API's units of work must each be one statement. Fixtures use the test's own pool.
 */
let t: TestDatabase;
let http: Database;
let endpoint: Awaited<ReturnType<typeof startNeonHttp>>;

beforeAll(async () => {
  t = await freshDatabase();
  endpoint = await startNeonHttp();
  http = connectNeonHttp(t.url, { endpoint: endpoint.endpoint });
});
afterAll(async () => {
  await http?.close();
  await endpoint?.close();
});

describe("Neon's SQL-over-HTTP driver (DATABASE_DRIVER=http)", () => {
  it("submits a job, records an intent and executes it, each in one statement", async () => {
    expect(http.kind).toBe("neon-http");
    const submitted = await submitJob(http.db, submitter, {
      generator: "demo",
      input: { text: "over http" },
    });
    expect(submitted).toMatchObject({ status: "PENDING", generator: "demo" });
    expect(submitted.createdAt).toBeInstanceOf(Date);
    const original = await failedJob(t.db);
    const intent = await createRetryIntent(http.db, admin, {
      sourceJobId: original.id,
      reasonCode: "OTHER",
      reasonText: "via http",
    });
    const { job } = await createRetryJobFromIntent(http.db, admin, intent.id);
    expect((await jobDetail(http.db, job.id)).lineage.map((l) => l.job.id)).toEqual([
      original.id,
      job.id,
    ]);
  });

  itKeepsTheDatabaseContract(
    () => http,
    () => t,
  );

  it("has no interactive transactions: the API must never need one", async () => {
    await expect(http.db.transaction(async () => {})).rejects.toThrow(/transaction/i);
  });
});
