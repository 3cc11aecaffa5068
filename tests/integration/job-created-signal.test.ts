/**
 * Every unit of work that creates jobs tells the worker at once: it sends
 * `pg_notify('regent_job_created')` inside its statement, so the signal arrives when, and only
 * when, the jobs committed. A refused unit sends nothing.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitJob } from "../../functions/domain/jobs";
import {
  createRetryBatch,
  executeRetryBatch,
  previewRetryBatch,
} from "../../functions/domain/retry-batches";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, failedJobs, pendingIntent, secondAdmin, submitter } from "../helpers/fixtures";

let t: TestDatabase;
let listener: pg.Client;
const received: string[] = [];

beforeAll(async () => {
  t = await freshDatabase();
  listener = new pg.Client({ connectionString: t.url });
  await listener.connect();
  listener.on("notification", (n) => received.push(n.channel));
  await listener.query("LISTEN regent_job_created");
});

afterAll(async () => {
  await listener?.end();
});

/** The notifications `work` caused: a round trip on the listener delivers any already sent. */
async function signalsOf(work: () => Promise<unknown>): Promise<number> {
  await listener.query("SELECT 1");
  received.length = 0;
  await work().catch(() => undefined);
  await listener.query("SELECT 1");
  return received.length;
}

describe("the job-created signal", () => {
  it("is sent by a submit, an execute and a batch execute, once each", async () => {
    expect(
      await signalsOf(() =>
        submitJob(t.db, submitter, { generator: "demo", input: { text: "1" } }),
      ),
    ).toBe(1);
    const intentId = await pendingIntent(t.db);
    expect(await signalsOf(() => createRetryJobFromIntent(t.db, secondAdmin, intentId))).toBe(1);
    await failedJobs(t.db, 3, { code: "SIGNAL_TEST" });
    const filter = { errorCode: "SIGNAL_TEST" };
    const { previewToken } = await previewRetryBatch(t.db, filter);
    const batch = await createRetryBatch(t.db, admin, {
      filter,
      previewToken,
      reasonCode: "OTHER",
      reasonText: "signal",
    });
    expect(await signalsOf(() => executeRetryBatch(t.db, secondAdmin, batch.id))).toBe(1);
  });

  it("is not sent by a refused execute, nor by a batch execute that created nothing", async () => {
    const intentId = await pendingIntent(t.db);
    await createRetryJobFromIntent(t.db, secondAdmin, intentId);
    expect(await signalsOf(() => createRetryJobFromIntent(t.db, secondAdmin, intentId))).toBe(0);
    await failedJobs(t.db, 1, { code: "SIGNAL_AGAIN" });
    const filter = { errorCode: "SIGNAL_AGAIN" };
    const { previewToken } = await previewRetryBatch(t.db, filter);
    const batch = await createRetryBatch(t.db, admin, {
      filter,
      previewToken,
      reasonCode: "OTHER",
      reasonText: "signal",
    });
    await executeRetryBatch(t.db, secondAdmin, batch.id);
    expect(await signalsOf(() => executeRetryBatch(t.db, secondAdmin, batch.id))).toBe(0);
  });
});
