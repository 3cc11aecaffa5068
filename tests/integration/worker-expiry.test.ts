/**
 * The worker's intent expiry sweep: each invocation starts by rejecting, as `system` with the
 * text `expired`, every PENDING retry intent whose time ran out, each audited
 * RETRY_INTENT_EXPIRED, and counts them as `expired`.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createRetryIntent, getRetryIntent } from "../../functions/domain/retry-intents";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, failedJob } from "../helpers/fixtures";
import { rawExpiredIntent } from "../helpers/signals";
import { logSink } from "../helpers/worker";

let t: TestDatabase;

async function work() {
  const sink = logSink();
  const result = await runWorkerInvocation(t.db, {
    budgetMs: 10_000,
    concurrency: 4,
    batchSize: 10,
    log: sink.log,
  });
  return { result, line: JSON.parse(sink.lines[0] ?? "{}") as Record<string, unknown> };
}

async function eventsOf(subjectId: string) {
  const { rows } = await t.raw.query<{ type: string; actor: string }>(
    "SELECT type, actor FROM audit_events WHERE subject_id = $1 ORDER BY id",
    [subjectId],
  );
  return rows;
}

beforeAll(async () => {
  t = await freshDatabase();
});

describe("the intent expiry sweep", () => {
  let expiredId: string;
  let jobId: string;
  let liveId: string;

  beforeAll(async () => {
    jobId = (await failedJob(t.db)).id;
    expiredId = await rawExpiredIntent(t.raw, jobId);
    liveId = (
      await createRetryIntent(t.db, admin, {
        sourceJobId: (await failedJob(t.db)).id,
        reasonCode: "TRANSIENT_FAILURE",
        reasonText: "still time",
      })
    ).id;
  });

  it("rejects an expired PENDING intent once, as system, with the text expired", async () => {
    const { result, line } = await work();
    expect(result.expired).toBe(1);
    expect(line.expired).toBe(1);
    expect(await getRetryIntent(t.db, expiredId)).toMatchObject({
      status: "REJECTED",
      rejectedBy: "system",
      rejectionText: "expired",
    });
    expect(await eventsOf(expiredId)).toEqual([
      { type: "RETRY_INTENT_CREATED", actor: "psql" },
      { type: "RETRY_INTENT_EXPIRED", actor: "system" },
    ]);
  });

  it("leaves an intent that has time left", async () => {
    expect((await getRetryIntent(t.db, liveId)).status).toBe("PENDING");
  });

  it("does nothing the second time", async () => {
    const { result, line } = await work();
    expect(result.expired).toBe(0);
    expect(line.expired).toBe(0);
    expect((await eventsOf(expiredId)).map((e) => e.type)).toEqual([
      "RETRY_INTENT_CREATED",
      "RETRY_INTENT_EXPIRED",
    ]);
  });

  it("frees the job for a new approval", async () => {
    const again = await createRetryIntent(t.db, admin, {
      sourceJobId: jobId,
      reasonCode: "OTHER",
      reasonText: "approved again, in time",
    });
    expect(again.status).toBe("PENDING");
  });

  it("goes on past one statement's thousand", async () => {
    await t.raw.query("BEGIN");
    try {
      await t.raw.query(`
        INSERT INTO regeneration_jobs (id, generator, input, created_by)
        SELECT 'bulk' || g, 'demo', '{}', 'psql' FROM generate_series(1, 1001) g`);
      await t.raw.query(`
        INSERT INTO audit_events (type, actor, subject_type, subject_id)
        SELECT 'JOB_CREATED', 'psql', 'job', 'bulk' || g FROM generate_series(1, 1001) g`);
      await t.raw.query("COMMIT");
      await t.raw.query("BEGIN");
      await t.raw.query(`
        UPDATE regeneration_jobs SET status = 'FAILED', finished_at = now(),
          error = '{"code":"DEMO_FAILURE","message":"bulk"}'
        WHERE id LIKE 'bulk%'`);
      await t.raw.query(`
        INSERT INTO audit_events (type, actor, subject_type, subject_id)
        SELECT 'JOB_FAILED', 'psql', 'job', 'bulk' || g FROM generate_series(1, 1001) g`);
      await t.raw.query(`
        INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by,
          approved_at, created_at, expires_at)
        SELECT 'lapsed' || g, 'bulk' || g, 'OTHER', 'lapsed', 'psql', now() - interval '2 hours',
          now() - interval '2 hours', now() - interval '1 hour'
        FROM generate_series(1, 1001) g`);
      await t.raw.query(`
        INSERT INTO audit_events (type, actor, subject_type, subject_id)
        SELECT 'RETRY_INTENT_CREATED', 'psql', 'retry_intent', 'lapsed' || g
        FROM generate_series(1, 1001) g`);
      await t.raw.query("COMMIT");
    } catch (error) {
      await t.raw.query("ROLLBACK");
      throw error;
    }
    expect((await work()).result.expired).toBe(1001);
    const { rows } = await t.raw.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM retry_intents WHERE status = 'PENDING' AND expires_at <= now()",
    );
    expect(rows[0]?.n).toBe(0);
  });
});
