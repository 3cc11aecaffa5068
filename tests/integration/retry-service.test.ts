import { beforeAll, describe, expect, it } from "vitest";
import { auditTrail } from "../../functions/domain/audit";
import { DomainError } from "../../functions/domain/errors";
import { getJob, submitJob } from "../../functions/domain/jobs";
import { jobDetail } from "../../functions/domain/read-models";
import { createRetryIntent, getRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { DEFAULT_POLICY, freshDatabase, setPolicy, type TestDatabase } from "../helpers/db";
import {
  admin,
  completeJob,
  failedJob,
  failJob,
  secondAdmin,
  submitter,
} from "../helpers/fixtures";

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase({ max: 50 });
});

/** The row exactly as stored, plus xmin: a row that was rewritten in any way gets a new xmin. */
async function snapshot(table: string, id: string) {
  const { rows } = await t.raw.query(
    `SELECT xmin::text AS xmin, row_to_json(r)::text AS json FROM ${table} r WHERE id = $1`,
    [id],
  );
  return rows[0] as { xmin: string; json: string };
}

async function count(table: string, where = "true", params: unknown[] = []): Promise<number> {
  const { rows } = await t.raw.query(
    `SELECT count(*)::int AS n FROM ${table} WHERE ${where}`,
    params,
  );
  return rows[0].n;
}

describe("createRetryJobFromIntent", () => {
  it("consumes the intent and creates one PENDING job with the same generator and input, linked both ways", async () => {
    const original = await failedJob(t.db, { text: "hello", failAttempts: 1 });
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: original.id,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "flaky",
    });
    const { intent: consumed, job } = await createRetryJobFromIntent(t.db, secondAdmin, intent.id);
    expect(consumed).toMatchObject({
      id: intent.id,
      status: "CONSUMED",
      consumedBy: secondAdmin.actor,
    });
    expect(job).toMatchObject({
      status: "PENDING",
      generator: original.generator,
      input: original.input,
      retryOfJobId: original.id,
      retryIntentId: intent.id,
      createdBy: secondAdmin.actor,
    });
    expect(job.id).not.toBe(original.id);
    const lineage = (await jobDetail(t.db, job.id)).lineage;
    expect(lineage.map((l) => [l.job.id, l.depth])).toEqual([
      [original.id, 0],
      [job.id, 1],
    ]);
    expect((await jobDetail(t.db, original.id)).lineage.map((l) => l.job.id)).toEqual([
      original.id,
      job.id,
    ]);
  });

  it("leaves the failed job and its output byte-for-byte untouched", async () => {
    const original = await failedJob(t.db);
    const before = await snapshot("regeneration_jobs", original.id);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: original.id,
      reasonCode: "OTHER",
      reasonText: "again",
    });
    await createRetryJobFromIntent(t.db, admin, intent.id);
    expect(await snapshot("regeneration_jobs", original.id)).toEqual(before);
  });

  it("writes exactly the audit events of the committed change, all with the executor's request context", async () => {
    const original = await failedJob(t.db);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: original.id,
      reasonCode: "INFRA_ERROR",
      reasonText: "node died",
    });
    const eventsBefore = await count("audit_events");
    const { job } = await createRetryJobFromIntent(t.db, secondAdmin, intent.id);
    expect(await count("audit_events")).toBe(eventsBefore + 4);
    expect((await auditTrail(t.db, intent.id)).map((e) => e.type)).toEqual([
      "RETRY_INTENT_CREATED",
      "RETRY_INTENT_CONSUMED",
      "RETRY_INTENT_EXECUTED",
    ]);
    const jobEvents = await auditTrail(t.db, job.id);
    expect(jobEvents.map((e) => [e.type, e.data])).toEqual([
      [
        "JOB_CREATED",
        {
          generator: "demo",
          retryOfJobId: original.id,
          retryIntentId: intent.id,
          correctedInput: false,
        },
      ],
    ]);
    const retried = (await auditTrail(t.db, original.id)).filter(
      (e) => e.type === "REGEN_JOB_RETRIED",
    );
    expect(retried).toHaveLength(1);
    expect(retried[0]).toMatchObject({
      actor: secondAdmin.actor,
      requestId: secondAdmin.requestId,
      ip: secondAdmin.ip,
      userAgent: secondAdmin.userAgent,
      data: {
        retryJobId: job.id,
        retryIntentId: intent.id,
        reasonCode: "INFRA_ERROR",
        approvedBy: admin.actor,
      },
    });
  });

  it("a consumed intent cannot be executed again: INTENT_NOT_PENDING naming the job it created", async () => {
    const original = await failedJob(t.db);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: original.id,
      reasonCode: "OTHER",
      reasonText: "x",
    });
    const { job } = await createRetryJobFromIntent(t.db, admin, intent.id);
    const error = await createRetryJobFromIntent(t.db, admin, intent.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({
      code: "INTENT_NOT_PENDING",
      details: { intentId: intent.id, status: "CONSUMED", jobId: job.id },
    });
    expect(await count("regeneration_jobs", "retry_intent_id = $1", [intent.id])).toBe(1);
  });

  it("an unknown intent is INTENT_NOT_FOUND", async () => {
    await expect(createRetryJobFromIntent(t.db, admin, "nosuchintent")).rejects.toMatchObject({
      code: "INTENT_NOT_FOUND",
    });
  });

  it("50 concurrent executions of one intent create exactly one job", async () => {
    const original = await failedJob(t.db);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: original.id,
      reasonCode: "OTHER",
      reasonText: "race",
    });
    const eventsBefore = await count("audit_events");
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        createRetryJobFromIntent(t.db, { actor: `admin:${i}` }, intent.id),
      ),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    const winner = (won[0] as PromiseFulfilledResult<{ job: { id: string } }>).value.job.id;
    for (const r of lost) {
      expect(r.reason).toMatchObject({
        code: "INTENT_NOT_PENDING",
        details: { status: "CONSUMED", jobId: winner },
      });
    }
    expect(await count("regeneration_jobs", "retry_of_job_id = $1", [original.id])).toBe(1);
    // Only the winner's four events were written; the losers left nothing behind.
    expect(await count("audit_events")).toBe(eventsBefore + 4);
  });

  it("concurrent executions of different intents for jobs of one chain never retry a job twice", async () => {
    const original = await failedJob(t.db);
    const first = await createRetryIntent(t.db, admin, {
      sourceJobId: original.id,
      reasonCode: "OTHER",
      reasonText: "1",
    });
    const { job: retry } = await createRetryJobFromIntent(t.db, admin, first.id);
    await failJob(t.db, retry.id);
    const second = await createRetryIntent(t.db, admin, {
      sourceJobId: retry.id,
      reasonCode: "OTHER",
      reasonText: "2",
    });
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5].map(() => createRetryJobFromIntent(t.db, admin, second.id)),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const chain = (await jobDetail(t.db, original.id)).lineage;
    expect(chain.map((l) => l.depth)).toEqual([0, 1, 2]);
  });
});

describe("recording and executing intents for one job at the same time", () => {
  it("an intent recorded while a retry is being created waits for it, then is refused with JOB_ALREADY_RETRIED", async () => {
    const job = await failedJob(t.db);
    const a = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "a",
    });
    // A second client executes intent A by hand, following the same protocol: job lock first.
    await t.raw.query("BEGIN");
    await t.raw.query("SELECT id FROM regeneration_jobs WHERE id = $1 FOR NO KEY UPDATE", [job.id]);
    const recording = createRetryIntent(t.db, secondAdmin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "b",
    }).catch((e: unknown) => e);
    await t.raw.query(
      "UPDATE retry_intents SET status = 'CONSUMED', consumed_by = 'psql', consumed_at = now() WHERE id = $1",
      [a.id],
    );
    await t.raw.query(
      "INSERT INTO regeneration_jobs (id, generator, input, created_by, retry_of_job_id, retry_intent_id) SELECT 'byhand' || $1, generator, input, 'psql', id, $2 FROM regeneration_jobs WHERE id = $1",
      [job.id, a.id],
    );
    await t.raw.query(
      `INSERT INTO audit_events (type, actor, subject_type, subject_id) VALUES
        ('RETRY_INTENT_CONSUMED', 'psql', 'retry_intent', $1), ('JOB_CREATED', 'psql', 'job', 'byhand' || $2),
        ('REGEN_JOB_RETRIED', 'psql', 'job', $2)`,
      [a.id, job.id],
    );
    await t.raw.query("COMMIT");
    expect(await recording).toMatchObject({
      code: "JOB_ALREADY_RETRIED",
      details: { retryJobId: `byhand${job.id}` },
    });
  });

  it("racing an execute against a new intent for the same job always ends in a clear refusal", async () => {
    for (let i = 0; i < 20; i++) {
      const job = await failedJob(t.db);
      const a = await createRetryIntent(t.db, admin, {
        sourceJobId: job.id,
        reasonCode: "OTHER",
        reasonText: "a",
      });
      const [executed, recorded] = await Promise.allSettled([
        createRetryJobFromIntent(t.db, admin, a.id),
        createRetryIntent(t.db, secondAdmin, {
          sourceJobId: job.id,
          reasonCode: "OTHER",
          reasonText: "b",
        }),
      ]);
      expect(executed.status).toBe("fulfilled");
      expect(recorded.status).toBe("rejected");
      expect(["INTENT_ALREADY_PENDING", "JOB_ALREADY_RETRIED"]).toContain(
        (recorded as PromiseRejectedResult).reason.code,
      );
    }
  });
});

describe("transactional safety", () => {
  /**
   * A failure is injected inside the database, between the consume and the job insert: a
   * temporary trigger refuses the retry job's INSERT. The whole unit of work must roll back.
   */
  async function withInjectedFailure<T>(
    sourceJobId: string,
    at: "job insert" | "audit insert",
    run: () => Promise<T>,
  ) {
    const table = at === "job insert" ? "regeneration_jobs" : "audit_events";
    const when =
      at === "job insert"
        ? `NEW.retry_of_job_id = '${sourceJobId}'`
        : `NEW.type = 'REGEN_JOB_RETRIED' AND NEW.subject_id = '${sourceJobId}'`;
    await t.raw.query(`CREATE FUNCTION inject_failure() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF ${when} THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`);
    await t.raw.query(
      `CREATE TRIGGER inject_failure BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION inject_failure()`,
    );
    try {
      return await run();
    } finally {
      await t.raw.query(`DROP TRIGGER inject_failure ON ${table}`);
      await t.raw.query("DROP FUNCTION inject_failure()");
    }
  }

  it.each(["job insert", "audit insert"] as const)(
    "a failure at the %s after the consume rolls back both: the intent stays PENDING, no job, no event",
    async (at) => {
      const original = await failedJob(t.db);
      const intent = await createRetryIntent(t.db, admin, {
        sourceJobId: original.id,
        reasonCode: "OTHER",
        reasonText: "inject",
      });
      const intentBefore = await snapshot("retry_intents", intent.id);
      const jobBefore = await snapshot("regeneration_jobs", original.id);
      const eventsBefore = await count("audit_events");
      const jobsBefore = await count("regeneration_jobs");

      const error = await withInjectedFailure(original.id, at, () =>
        createRetryJobFromIntent(t.db, admin, intent.id).catch((e: unknown) => e),
      );
      expect(String((error as Error).cause ?? error)).toMatch(/injected failure/);
      expect(await snapshot("retry_intents", intent.id)).toEqual(intentBefore);
      expect(await snapshot("regeneration_jobs", original.id)).toEqual(jobBefore);
      expect(await count("audit_events")).toBe(eventsBefore);
      expect(await count("regeneration_jobs")).toBe(jobsBefore);

      // With the fault gone, the same intent executes normally: nothing was half-done.
      const { job } = await createRetryJobFromIntent(t.db, admin, intent.id);
      expect((await getRetryIntent(t.db, intent.id)).status).toBe("CONSUMED");
      expect((await getJob(t.db, job.id)).retryIntentId).toBe(intent.id);
    },
  );
});

describe("four-eyes policy", () => {
  it("when required, the approver may not execute; another admin may", async () => {
    const original = await failedJob(t.db);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: original.id,
      reasonCode: "OTHER",
      reasonText: "4 eyes",
    });
    await setPolicy(t, { requireDistinctExecutor: true });
    try {
      await expect(createRetryJobFromIntent(t.db, admin, intent.id)).rejects.toMatchObject({
        code: "FOUR_EYES_REQUIRED",
      });
      expect((await getRetryIntent(t.db, intent.id)).status).toBe("PENDING");
      const { job } = await createRetryJobFromIntent(t.db, secondAdmin, intent.id);
      expect(job.retryOfJobId).toBe(original.id);
    } finally {
      await setPolicy(t, DEFAULT_POLICY);
    }
  });

  it("is off by default", async () => {
    const original = await failedJob(t.db);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: original.id,
      reasonCode: "OTHER",
      reasonText: "self",
    });
    const { intent: consumed, job } = await createRetryJobFromIntent(t.db, admin, intent.id);
    expect(consumed).toMatchObject({
      status: "CONSUMED",
      approvedBy: admin.actor,
      consumedBy: admin.actor,
    });
    expect(job).toMatchObject({
      retryOfJobId: original.id,
      retryIntentId: intent.id,
      status: "PENDING",
    });
  });
});

describe("jobs", () => {
  it("submitJob refuses a malformed generator name and writes nothing", async () => {
    const before = await count("regeneration_jobs");
    for (const generator of ["", "Demo", "has space", "x".repeat(65), "1abc"]) {
      await expect(submitJob(t.db, submitter, { generator, input: {} })).rejects.toMatchObject({
        code: "VALIDATION_FAILED",
      });
    }
    expect(await count("regeneration_jobs")).toBe(before);
  });

  it("a completed job keeps its output, and cannot be retried", async () => {
    const job = await submitJob(t.db, submitter, { generator: "demo", input: { text: "done" } });
    await completeJob(t.db, job.id, { text: "DONE" });
    await expect(
      createRetryIntent(t.db, admin, {
        sourceJobId: job.id,
        reasonCode: "OTHER",
        reasonText: "no",
      }),
    ).rejects.toMatchObject({
      code: "JOB_NOT_FAILED",
    });
  });
});
