import { beforeAll, describe, expect, it } from "vitest";
import { listAudit } from "../../functions/domain/audit";
import { getJob, submitJob } from "../../functions/domain/jobs";
import {
  createRetryBatch,
  executeRetryBatch,
  previewRetryBatch,
  rejectRetryBatch,
} from "../../functions/domain/retry-batches";
import {
  createRetryIntent,
  expireRetryIntents,
  getRetryIntent,
} from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import {
  attempt,
  DEFAULT_POLICY,
  freshDatabase,
  setPolicy,
  type TestDatabase,
} from "../helpers/db";
import { admin, failedJob, failJob, secondAdmin } from "../helpers/fixtures";

/**
 * The governance of an incident: the retry budget of a chain, the expiry of intents and
 * retry batches, each enforced by the domain with a clear code and by PostgreSQL for any
 * client, as a human at psql would try to get around them.
 */

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase();
});

const audit = (type: string, subjectId: string, subjectType = "retry_intent") =>
  `INSERT INTO audit_events (type, actor, subject_type, subject_id) VALUES ('${type}', 'psql', '${subjectType}', '${subjectId}')`;

/** A FAILED job `depth` retries down its chain, each retry governed and failed in turn. */
async function chainOfDepth(depth: number) {
  let job = await failedJob(t.db);
  for (let i = 0; i < depth; i++) {
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: `retry ${i + 1}`,
      overrideBudget: true,
    });
    const { job: retry } = await createRetryJobFromIntent(t.db, admin, intent.id);
    job = await failJob(t.db, retry.id);
  }
  return job;
}

/** An intent approved two hours ago that expired an hour ago, written as psql would. */
async function expiredIntent(): Promise<string> {
  const job = await failedJob(t.db);
  const id = `expired${Math.random().toString(36).slice(2, 10)}`;
  const error = await attempt(
    t.raw,
    `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by, approved_at, created_at, expires_at)
     VALUES ('${id}', '${job.id}', 'OTHER', 'long ago', 'psql', now() - interval '2 hours', now() - interval '2 hours', now() - interval '1 hour')`,
    audit("RETRY_INTENT_CREATED", id),
  );
  expect(error).toBeUndefined();
  return id;
}

const count = async (sql: string) => Number((await t.raw.query(sql)).rows[0].n);

describe("the retry budget of a chain", () => {
  it("refuses the intent past RETRY_BUDGET through the domain, writing nothing", async () => {
    const job = await chainOfDepth(3);
    const before = await count("SELECT count(*) AS n FROM retry_intents");
    const refused = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "once more",
    }).catch((e) => e);
    expect(refused).toMatchObject({
      code: "RETRY_BUDGET_EXHAUSTED",
      details: { jobId: job.id, depth: 3, budget: 3 },
    });
    expect(await count("SELECT count(*) AS n FROM retry_intents")).toBe(before);
  });

  it("refuses it in the database too, for a client that does not ask", async () => {
    const job = await chainOfDepth(3);
    const error = await attempt(
      t.raw,
      `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by) VALUES ('psqlbudget1', '${job.id}', 'OTHER', 'by hand', 'psql')`,
      audit("RETRY_INTENT_CREATED", "psqlbudget1"),
    );
    expect(error?.code).toBe("RG001");
    expect(error?.message).toMatch(/retry budget exhausted/);
    // Under the budget, the same statement is fine.
    const young = await failedJob(t.db);
    expect(
      await attempt(
        t.raw,
        `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by) VALUES ('psqlbudget2', '${young.id}', 'OTHER', 'by hand', 'psql')`,
        audit("RETRY_INTENT_CREATED", "psqlbudget2"),
      ),
    ).toBeUndefined();
  });

  it("holds the units and the guards to the database's policy, written by the owner", async () => {
    const job = await chainOfDepth(3);
    await setPolicy(t, { retryBudget: 5 });
    try {
      const intent = await createRetryIntent(t.db, admin, {
        sourceJobId: job.id,
        reasonCode: "TRANSIENT_FAILURE",
        reasonText: "budget is 5 here",
      });
      expect(intent.budgetOverride).toBe(false);
    } finally {
      await setPolicy(t, DEFAULT_POLICY);
    }
  });

  it("lets an explicit override with reason code OTHER through, stored and audited", async () => {
    const job = await chainOfDepth(3);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "the vendor fixed it; one more",
      overrideBudget: true,
    });
    expect(intent.budgetOverride).toBe(true);
    const [event] = (await listAudit(t.db, { subjectId: intent.id, limit: 5 })).items;
    expect(event?.data).toMatchObject({ budgetOverride: true, retryDepth: 3, budget: 3 });
    const { job: retry } = await createRetryJobFromIntent(t.db, secondAdmin, intent.id);
    expect(retry.retryOfJobId).toBe(job.id);
  });

  it("refuses an override with another reason code, in the domain and by a CHECK", async () => {
    const job = await chainOfDepth(3);
    await expect(
      createRetryIntent(t.db, admin, {
        sourceJobId: job.id,
        reasonCode: "TRANSIENT_FAILURE",
        reasonText: "override",
        overrideBudget: true,
      }),
    ).rejects.toMatchObject({ code: "VALIDATION_FAILED", details: { field: "overrideBudget" } });
    const error = await attempt(
      t.raw,
      `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by, budget_override) VALUES ('psqlbudget3', '${job.id}', 'BAD_INPUT', 'by hand', 'psql', true)`,
      audit("RETRY_INTENT_CREATED", "psqlbudget3"),
    );
    expect(error?.message).toMatch(/retry_intents_override_reason/);
  });
});

describe("intent expiry", () => {
  it("stamps expiresAt from INTENT_TTL_HOURS or the request, 1 to 720 hours", async () => {
    await setPolicy(t, { intentTtlHours: 10 });
    const a = await createRetryIntent(t.db, admin, {
      sourceJobId: (await failedJob(t.db)).id,
      reasonCode: "OTHER",
      reasonText: "ttl",
    }).finally(() => setPolicy(t, DEFAULT_POLICY));
    const hours = (a.expiresAt.getTime() - a.approvedAt.getTime()) / 3_600_000;
    expect(hours).toBeCloseTo(10, 1);
    const b = await createRetryIntent(t.db, admin, {
      sourceJobId: (await failedJob(t.db)).id,
      reasonCode: "OTHER",
      reasonText: "ttl",
      expiresInHours: 1,
    });
    expect((b.expiresAt.getTime() - b.approvedAt.getTime()) / 3_600_000).toBeCloseTo(1, 1);
    for (const expiresInHours of [0, 721, 1.5]) {
      await expect(
        createRetryIntent(t.db, admin, {
          sourceJobId: (await failedJob(t.db)).id,
          reasonCode: "OTHER",
          reasonText: "ttl",
          expiresInHours,
        }),
      ).rejects.toMatchObject({ code: "VALIDATION_FAILED", details: { field: "expiresInHours" } });
    }
  });

  it("refuses to execute an expired intent, in the domain and in the database", async () => {
    const id = await expiredIntent();
    await expect(createRetryJobFromIntent(t.db, admin, id)).rejects.toMatchObject({
      code: "INTENT_EXPIRED",
      details: { intentId: id },
    });
    expect((await getRetryIntent(t.db, id)).status).toBe("PENDING");
    const error = await attempt(
      t.raw,
      `UPDATE retry_intents SET status = 'CONSUMED', consumed_by = 'psql', consumed_at = now() WHERE id = '${id}'`,
      audit("RETRY_INTENT_CONSUMED", id),
    );
    expect(error?.code).toBe("RG001");
    expect(error?.message).toMatch(/expired/);
  });

  it("is swept once: REJECTED by system with the text expired, audited RETRY_INTENT_EXPIRED", async () => {
    const id = await expiredIntent();
    expect(await expireRetryIntents(t.db)).toBeGreaterThanOrEqual(1);
    const intent = await getRetryIntent(t.db, id);
    expect(intent).toMatchObject({
      status: "REJECTED",
      rejectedBy: "system",
      rejectionText: "expired",
    });
    expect(await expireRetryIntents(t.db)).toBe(0);
    const events = (await listAudit(t.db, { subjectId: id, limit: 10 })).items.map((e) => e.type);
    expect(events.filter((type) => type === "RETRY_INTENT_EXPIRED")).toHaveLength(1);
  });

  it("lets no client move an expiry, nor the system reject an intent that has not expired", async () => {
    const live = await createRetryIntent(t.db, admin, {
      sourceJobId: (await failedJob(t.db)).id,
      reasonCode: "OTHER",
      reasonText: "still good",
    });
    const moved = await attempt(
      t.raw,
      `UPDATE retry_intents SET status = 'REJECTED', rejected_by = 'psql', rejected_at = now(), rejection_text = 'x', expires_at = now() + interval '9 days' WHERE id = '${live.id}'`,
      audit("RETRY_INTENT_REJECTED", live.id),
    );
    expect(moved?.message).toMatch(/never change/);
    const early = await attempt(
      t.raw,
      `UPDATE retry_intents SET status = 'REJECTED', rejected_by = 'system', rejected_at = now(), rejection_text = 'expired' WHERE id = '${live.id}'`,
      audit("RETRY_INTENT_EXPIRED", live.id),
    );
    expect(early?.message).toMatch(/only expired intents/);
    expect((await getRetryIntent(t.db, live.id)).status).toBe("PENDING");
  });
});

describe("retry batches", () => {
  it("freezes the previewed set: a changed set is stale and writes nothing; the approved one holds exactly its jobs", async () => {
    const generator = "demo";
    const errorCode = `UPSTREAM_${Math.random().toString(36).slice(2, 7).toUpperCase()}`;
    const jobs = [];
    for (let i = 0; i < 6; i++) jobs.push(await failedJobWithCode(errorCode));
    const filter = { generator, errorCode };
    const first = await previewRetryBatch(t.db, filter);
    expect(first.count).toBe(6);
    expect(first.jobIds).toEqual(jobs.map((j) => j.id).sort());

    const late = await failedJobWithCode(errorCode);
    const batchesBefore = await count("SELECT count(*) AS n FROM retry_batches");
    const intentsBefore = await count("SELECT count(*) AS n FROM retry_intents");
    await expect(
      createRetryBatch(t.db, admin, {
        filter,
        previewToken: first.previewToken,
        reasonCode: "TRANSIENT_FAILURE",
        reasonText: "upstream outage",
      }),
    ).rejects.toMatchObject({ code: "BATCH_PREVIEW_STALE", details: { count: 7 } });
    expect(await count("SELECT count(*) AS n FROM retry_batches")).toBe(batchesBefore);
    expect(await count("SELECT count(*) AS n FROM retry_intents")).toBe(intentsBefore);

    const second = await previewRetryBatch(t.db, filter);
    expect(second.jobIds).toContain(late.id);
    const batch = await createRetryBatch(t.db, admin, {
      filter,
      previewToken: second.previewToken,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "upstream outage",
    });
    expect(batch.jobCount).toBe(7);
    const after = await failedJobWithCode(errorCode);
    const intents = await t.raw.query(
      "SELECT source_job_id, reason_code, reason_text, approved_by FROM retry_intents WHERE batch_id = $1",
      [batch.id],
    );
    expect(intents.rows.map((r) => r.source_job_id).sort()).toEqual(second.jobIds);
    expect(intents.rows.map((r) => r.source_job_id)).not.toContain(after.id);
    for (const row of intents.rows) {
      expect(row).toMatchObject({
        reason_code: "TRANSIENT_FAILURE",
        reason_text: "upstream outage",
        approved_by: admin.actor,
      });
    }

    // Two executes at once: one creates every job, the other waits and skips them all.
    const [a, b] = await Promise.all([
      executeRetryBatch(t.db, admin, batch.id),
      executeRetryBatch(t.db, secondAdmin, batch.id),
    ]);
    expect([a.created, b.created].sort()).toEqual([0, 7]);
    expect((a.created === 0 ? a : b).skipped.consumed).toBe(7);
    expect(
      await count(
        `SELECT count(*) AS n FROM regeneration_jobs r JOIN retry_intents i ON i.id = r.retry_intent_id WHERE i.batch_id = '${batch.id}'`,
      ),
    ).toBe(7);
    const retried = await t.raw.query(
      `SELECT r.retry_of_job_id, r.generator, r.input = s.input AS same_input,
              (SELECT array_agg(type ORDER BY type) FROM audit_events WHERE subject_id = r.id) AS events
       FROM regeneration_jobs r JOIN regeneration_jobs s ON s.id = r.retry_of_job_id
       JOIN retry_intents i ON i.id = r.retry_intent_id WHERE i.batch_id = $1`,
      [batch.id],
    );
    for (const row of retried.rows) {
      expect(row).toMatchObject({ generator: "demo", same_input: true, events: ["JOB_CREATED"] });
    }
    expect((await getJob(t.db, jobs[0]?.id ?? "")).status).toBe("FAILED");
    // A later preview of the same filter finds the retried jobs gone, the late one still there.
    const third = await previewRetryBatch(t.db, filter);
    expect(third.jobIds).toEqual([after.id]);
  });

  it("says what it leaves out and why: a pending intent, a spent budget", async () => {
    const errorCode = `MIXED_${Math.random().toString(36).slice(2, 7).toUpperCase()}`;
    const plain = await failedJobWithCode(errorCode);
    const withIntent = await failedJobWithCode(errorCode);
    await createRetryIntent(t.db, admin, {
      sourceJobId: withIntent.id,
      reasonCode: "OTHER",
      reasonText: "already decided",
    });
    const preview = await previewRetryBatch(t.db, { errorCode });
    expect(preview).toMatchObject({
      count: 1,
      jobIds: [plain.id],
      excluded: { pendingIntent: 1, overBudget: 0 },
    });
    await setPolicy(t, { retryBudget: 0, retryBatchMax: 1 });
    try {
      const none = await previewRetryBatch(t.db, { errorCode });
      expect(none).toMatchObject({ count: 0, excluded: { pendingIntent: 1, overBudget: 1 } });
      await expect(
        createRetryBatch(t.db, admin, {
          filter: { errorCode },
          previewToken: none.previewToken,
          reasonCode: "OTHER",
          reasonText: "x",
        }),
      ).rejects.toMatchObject({ code: "BATCH_EMPTY" });
      await setPolicy(t, { retryBudget: 3 });
      await expect(previewRetryBatch(t.db, { errorCode: "DEMO_FAILURE" })).rejects.toMatchObject({
        code: "BATCH_TOO_LARGE",
      });
    } finally {
      await setPolicy(t, DEFAULT_POLICY);
    }
    for (const filter of [
      { failedAfter: "yesterday" },
      { generator: "Not A Name" },
      { failedAfter: "2026-01-02T00:00:00Z", failedBefore: "2026-01-01T00:00:00Z" },
    ]) {
      await expect(previewRetryBatch(t.db, filter)).rejects.toMatchObject({
        code: "VALIDATION_FAILED",
      });
    }
  });

  it("rejects every pending intent of a batch with one reason, each audited", async () => {
    const errorCode = `REJ_${Math.random().toString(36).slice(2, 7).toUpperCase()}`;
    await failedJobWithCode(errorCode);
    await failedJobWithCode(errorCode);
    const preview = await previewRetryBatch(t.db, { errorCode });
    const batch = await createRetryBatch(t.db, admin, {
      filter: { errorCode },
      previewToken: preview.previewToken,
      reasonCode: "OTHER",
      reasonText: "not these",
    });
    const result = await rejectRetryBatch(t.db, secondAdmin, batch.id, "the input was wrong");
    expect(result).toMatchObject({ rejected: 2, counts: { pending: 0, rejected: 2, consumed: 0 } });
    const executed = await executeRetryBatch(t.db, admin, batch.id);
    expect(executed).toMatchObject({ created: 0, skipped: { rejected: 2 } });
  });

  it("is refused by the database when a client changes a batch, miscounts it, or adds to it later", async () => {
    const errorCode = `RAW_${Math.random().toString(36).slice(2, 7).toUpperCase()}`;
    const job = await failedJobWithCode(errorCode);
    const other = await failedJobWithCode(errorCode);
    const preview = await previewRetryBatch(t.db, { errorCode });
    const batch = await createRetryBatch(t.db, admin, {
      filter: { errorCode },
      previewToken: preview.previewToken,
      reasonCode: "OTHER",
      reasonText: "raw",
    });
    expect(
      (
        await attempt(
          t.raw,
          `UPDATE retry_batches SET reason_text = 'edited' WHERE id = '${batch.id}'`,
        )
      )?.message,
    ).toMatch(/insert-only/);
    expect(
      (await attempt(t.raw, `DELETE FROM retry_batches WHERE id = '${batch.id}'`))?.message,
    ).toMatch(/insert-only/);
    expect((await attempt(t.raw, "TRUNCATE retry_batches CASCADE"))?.message).toMatch(
      /insert-only/,
    );
    // A batch that claims two jobs but holds one.
    const third = await failedJobWithCode(`${errorCode}_B`);
    const miscounted = await attempt(
      t.raw,
      `INSERT INTO retry_batches (id, filter, reason_code, reason_text, approved_by, job_count) VALUES ('psqlbatch1', '{}', 'OTHER', 'r', 'psql', 2)`,
      audit("RETRY_BATCH_CREATED", "psqlbatch1", "retry_batch"),
      `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by, batch_id) VALUES ('psqlbatchi1', '${third.id}', 'OTHER', 'r', 'psql', 'psqlbatch1')`,
      audit("RETRY_INTENT_CREATED", "psqlbatchi1"),
    );
    expect(miscounted?.message).toMatch(/exactly its 2 intents, not 1/);
    // An intent slipped into the approved batch afterwards.
    const fourth = await failedJobWithCode(`${errorCode}_C`);
    const added = await attempt(
      t.raw,
      `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by, batch_id) VALUES ('psqlbatchi2', '${fourth.id}', 'OTHER', 'raw', '${admin.actor}', '${batch.id}')`,
      audit("RETRY_INTENT_CREATED", "psqlbatchi2"),
    );
    expect(added?.code).toBe("RG002");
    // An intent of a batch with another reason than the batch's.
    const differs = await attempt(
      t.raw,
      `INSERT INTO retry_batches (id, filter, reason_code, reason_text, approved_by, job_count) VALUES ('psqlbatch2', '{}', 'OTHER', 'r', 'psql', 1)`,
      audit("RETRY_BATCH_CREATED", "psqlbatch2", "retry_batch"),
      `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by, batch_id) VALUES ('psqlbatchi3', '${fourth.id}', 'OTHER', 'another reason', 'psql', 'psqlbatch2')`,
      audit("RETRY_INTENT_CREATED", "psqlbatchi3"),
    );
    expect(differs?.message).toMatch(/batch's reason and approver/);
    // Moving an intent between batches, or out of one.
    const moved = await attempt(
      t.raw,
      `UPDATE retry_intents SET batch_id = NULL, status = 'REJECTED', rejected_by = 'psql', rejected_at = now(), rejection_text = 'x' WHERE source_job_id = '${job.id}'`,
      audit("RETRY_INTENT_REJECTED", "x"),
    );
    expect(moved?.message).toMatch(/never change/);
    // After every refused attempt the approved batch holds exactly its two intents, PENDING.
    const { rows } = await t.raw.query(
      "SELECT source_job_id, status FROM retry_intents WHERE batch_id = $1 ORDER BY source_job_id",
      [batch.id],
    );
    expect(rows).toEqual(
      [job.id, other.id].sort().map((id) => ({ source_job_id: id, status: "PENDING" })),
    );
  });
});

/** A FAILED demo job whose error carries `code`, as a worker would have failed it. */
async function failedJobWithCode(code: string) {
  const job = await submitJob(t.db, admin, {
    generator: "demo",
    input: { text: code, n: Math.random() },
  });
  return failJob(t.db, job.id, code);
}
