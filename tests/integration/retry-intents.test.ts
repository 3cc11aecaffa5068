import { beforeAll, describe, expect, it } from "vitest";
import { auditTrail } from "../../functions/domain/audit";
import { DomainError } from "../../functions/domain/errors";
import { submitJob } from "../../functions/domain/jobs";
import {
  createRetryIntent,
  getRetryIntent,
  listRetryIntents,
  listRetryIntentsForJob,
  rejectRetryIntent,
} from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, completeJob, failedJob, secondAdmin, submitter } from "../helpers/fixtures";

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase();
});

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe("createRetryIntent", () => {
  it("records a PENDING intent with the approver and its audit event in the same transaction", async () => {
    const job = await failedJob(t.db);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "  upstream timed out  ",
      sourceOutputRef: "s3://bucket/previous.json",
    });
    expect(intent).toMatchObject({
      status: "PENDING",
      sourceJobId: job.id,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "upstream timed out",
      approvedBy: admin.actor,
      sourceOutputRef: "s3://bucket/previous.json",
      consumedAt: null,
    });
    const trail = await auditTrail(t.db, intent.id);
    expect(trail.map((e) => e.type)).toEqual(["RETRY_INTENT_CREATED"]);
    expect(trail[0]).toMatchObject({
      actor: admin.actor,
      requestId: admin.requestId,
      ip: admin.ip,
      userAgent: admin.userAgent,
    });
    const { rows } = await t.raw.query(
      "SELECT count(DISTINCT tx_id)::int AS n FROM audit_events a JOIN retry_intents i ON i.id = a.subject_id WHERE i.id = $1",
      [intent.id],
    );
    expect(rows[0].n).toBe(1);
  });

  it("refuses a job that does not exist: JOB_NOT_FOUND", async () => {
    const error = await refusal(
      createRetryIntent(t.db, admin, {
        sourceJobId: "nosuchjob",
        reasonCode: "OTHER",
        reasonText: "x",
      }),
    );
    expect(error.code).toBe("JOB_NOT_FOUND");
  });

  it.each(["PENDING", "RUNNING", "COMPLETED"] as const)(
    "refuses a %s job: JOB_NOT_FAILED",
    async (status) => {
      const job = await submitJob(t.db, submitter, { generator: "demo", input: { text: status } });
      if (status === "COMPLETED") await completeJob(t.db, job.id);
      if (status === "RUNNING") {
        await t.raw.query("BEGIN");
        await t.raw.query(
          "UPDATE regeneration_jobs SET status='RUNNING', claimed_by='w', claimed_at=now(), lease_expires_at=now() + interval '1 minute' WHERE id=$1",
          [job.id],
        );
        await t.raw.query(
          "INSERT INTO audit_events (type, actor, subject_type, subject_id) VALUES ('JOB_CLAIMED', 'w', 'job', $1)",
          [job.id],
        );
        await t.raw.query("COMMIT");
      }
      const error = await refusal(
        createRetryIntent(t.db, admin, {
          sourceJobId: job.id,
          reasonCode: "OTHER",
          reasonText: "x",
        }),
      );
      expect(error.code).toBe("JOB_NOT_FAILED");
      expect(error.details).toMatchObject({ jobId: job.id, status });
      expect(await listRetryIntentsForJob(t.db, job.id)).toEqual([]);
    },
  );

  it("refuses a second intent while one is PENDING: INTENT_ALREADY_PENDING", async () => {
    const job = await failedJob(t.db);
    const first = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "one",
    });
    const error = await refusal(
      createRetryIntent(t.db, secondAdmin, {
        sourceJobId: job.id,
        reasonCode: "OTHER",
        reasonText: "two",
      }),
    );
    expect(error.code).toBe("INTENT_ALREADY_PENDING");
    expect(error.details).toMatchObject({ jobId: job.id, intentId: first.id });
  });

  it("when admins race, the database lets exactly one PENDING intent through", async () => {
    const job = await failedJob(t.db);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        createRetryIntent(
          t.db,
          { actor: `admin:${i}` },
          { sourceJobId: job.id, reasonCode: "OTHER", reasonText: `attempt ${i}` },
        ),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected")
        expect((r.reason as DomainError).code).toBe("INTENT_ALREADY_PENDING");
    }
    expect(await listRetryIntentsForJob(t.db, job.id)).toHaveLength(1);
  });

  it("refuses a job already retried, naming the retry job: JOB_ALREADY_RETRIED", async () => {
    const job = await failedJob(t.db);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "go",
    });
    const { job: retry } = await createRetryJobFromIntent(t.db, admin, intent.id);
    const error = await refusal(
      createRetryIntent(t.db, admin, {
        sourceJobId: job.id,
        reasonCode: "OTHER",
        reasonText: "again",
      }),
    );
    expect(error.code).toBe("JOB_ALREADY_RETRIED");
    expect(error.details).toMatchObject({ jobId: job.id, retryJobId: retry.id });
  });

  it.each([
    ["an empty reason", { reasonText: "" }, "reasonText"],
    ["a reason of spaces", { reasonText: "   \n\t " }, "reasonText"],
    ["a reason of 2001 characters", { reasonText: "x".repeat(2001) }, "reasonText"],
    ["an unknown reason code", { reasonCode: "WHIM" }, "reasonCode"],
    [
      "an output reference of 501 characters",
      { sourceOutputRef: "r".repeat(501) },
      "sourceOutputRef",
    ],
  ])("refuses %s: VALIDATION_FAILED", async (_name, override, field) => {
    const job = await failedJob(t.db);
    const request = {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "fine",
      ...override,
    } as Parameters<typeof createRetryIntent>[2];
    const error = await refusal(createRetryIntent(t.db, admin, request));
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.details).toMatchObject({ field });
  });

  it("accepts a reason of exactly 2000 characters", async () => {
    const job = await failedJob(t.db);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "y".repeat(2000),
    });
    expect(intent.reasonText).toHaveLength(2000);
  });

  it("counts a reason in characters as the API and the database do: 2000 emoji pass, 2001 do not", async () => {
    const job = await failedJob(t.db);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "🔁".repeat(2000),
    });
    expect([...intent.reasonText]).toHaveLength(2000);
    const other = await failedJob(t.db);
    const error = await refusal(
      createRetryIntent(t.db, admin, {
        sourceJobId: other.id,
        reasonCode: "OTHER",
        reasonText: "🔁".repeat(2001),
      }),
    );
    expect(error.details).toMatchObject({ field: "reasonText" });
  });
});

describe("rejectRetryIntent", () => {
  it("rejects a PENDING intent once, with the rejecting admin, text and audit event", async () => {
    const job = await failedJob(t.db);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "BAD_INPUT",
      reasonText: "fix input",
    });
    const rejected = await rejectRetryIntent(
      t.db,
      secondAdmin,
      intent.id,
      "  the input is the problem  ",
    );
    expect(rejected).toMatchObject({
      status: "REJECTED",
      rejectedBy: secondAdmin.actor,
      rejectionText: "the input is the problem",
    });
    const again = await refusal(rejectRetryIntent(t.db, secondAdmin, intent.id, "twice"));
    expect(again.code).toBe("INTENT_NOT_PENDING");
    const execute = await refusal(createRetryJobFromIntent(t.db, admin, intent.id));
    expect(execute.code).toBe("INTENT_NOT_PENDING");
    expect(execute.details).toMatchObject({ status: "REJECTED" });
    expect((await auditTrail(t.db, intent.id)).map((e) => e.type)).toEqual([
      "RETRY_INTENT_CREATED",
      "RETRY_INTENT_REJECTED",
    ]);
    // After a rejection, a new intent may be recorded for the same job.
    const next = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "second thoughts",
    });
    expect(next.status).toBe("PENDING");
  });

  it("needs a reason text, and a real intent", async () => {
    const job = await failedJob(t.db);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "x",
    });
    expect((await refusal(rejectRetryIntent(t.db, admin, intent.id, "  "))).code).toBe(
      "VALIDATION_FAILED",
    );
    expect((await refusal(rejectRetryIntent(t.db, admin, "nosuchintent", "no"))).code).toBe(
      "INTENT_NOT_FOUND",
    );
    expect((await getRetryIntent(t.db, intent.id)).status).toBe("PENDING");
  });
});

describe("listRetryIntents", () => {
  it("pages newest first with a cursor, filtered by job and status, with no item twice", async () => {
    const fresh = await freshDatabase();
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const job = await failedJob(fresh.db);
      created.push(
        (
          await createRetryIntent(fresh.db, admin, {
            sourceJobId: job.id,
            reasonCode: "OTHER",
            reasonText: `r${i}`,
          })
        ).id,
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await listRetryIntents(fresh.db, { limit: 3, cursor });
      seen.push(...result.items.map((i) => i.id));
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    expect(seen).toEqual([...created].reverse());
    const one = await listRetryIntents(fresh.db, {
      limit: 10,
      status: "PENDING",
      jobId: (await getRetryIntent(fresh.db, created[0] as string)).sourceJobId,
    });
    expect(one.items.map((i) => i.id)).toEqual([created[0]]);
    expect(await listRetryIntents(fresh.db, { limit: 10, status: "CONSUMED" })).toEqual({
      items: [],
      nextCursor: null,
    });
  });

  it("refuses a cursor it did not issue", async () => {
    for (const cursor of ["%%%", "bm9wZQ", "a".repeat(400), "W10"]) {
      expect((await refusal(listRetryIntents(t.db, { limit: 5, cursor }))).code).toBe(
        "VALIDATION_FAILED",
      );
    }
  });
});
