import { beforeAll, describe, expect, it } from "vitest";
import { type ApiApp, call, createTokens, type Tokens, testApp } from "../helpers/api";
import { freshDatabase, type TestDatabase, usePolicy } from "../helpers/db";
import { failJob } from "../helpers/fixtures";

/**
 * Recovery through the API: a failed job, an intent, its execution into a new job; every
 * refusal of the retry lifecycle with its status and details; concurrent executes; the four-eyes rule.
 */

let t: TestDatabase;
let app: ApiApp;
let tokens: Tokens;

async function submit(text: string, token = tokens.submitter): Promise<string> {
  const response = await call(app, "POST", "/api/jobs", {
    token,
    body: { generator: "demo", input: { text, failAttempts: 1 } },
  });
  expect(response.status).toBe(201);
  return response.body.job.id;
}

/** A job that FAILED, moved there as a worker would. */
async function failed(text = "hello"): Promise<string> {
  const id = await submit(text);
  await failJob(t.db, id);
  return id;
}

async function createIntent(sourceJobId: string, token = tokens.admin) {
  return call(app, "POST", "/api/admin/retry-intents", {
    token,
    body: { sourceJobId, reasonCode: "TRANSIENT_FAILURE", reasonText: "  upstream timed out  " },
  });
}

beforeAll(async () => {
  t = await freshDatabase({ max: 12 });
  app = testApp(t.db);
  tokens = await createTokens(t.db);
});

describe("the recovery flow over HTTP", () => {
  it("retries a failed job as a new, linked job and leaves the original untouched", async () => {
    const jobId = await failed("hello");
    const original = await call(app, "GET", `/api/admin/jobs/${jobId}`, { token: tokens.viewer });
    expect(original.body.job.status).toBe("FAILED");

    const created = await call(app, "POST", "/api/admin/retry-intents", {
      token: tokens.admin,
      headers: { "cf-connecting-ip": "203.0.113.7", "user-agent": "ops-console/2.1" },
      body: { sourceJobId: jobId, reasonCode: "TRANSIENT_FAILURE", reasonText: "  timed out  " },
    });
    expect(created.status).toBe(201);
    const intent = created.body.intent;
    expect(intent).toMatchObject({
      sourceJobId: jobId,
      status: "PENDING",
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "timed out",
      approvedBy: tokens.actors.admin,
      consumedBy: null,
    });
    expect(new Date(intent.approvedAt).toISOString()).toBe(intent.approvedAt);

    const pending = await call(app, "GET", `/api/admin/retry-intents/${intent.id}`, {
      token: tokens.viewer,
    });
    expect(pending.status).toBe(200);
    expect(pending.body.sourceJob.id).toBe(jobId);
    expect(pending.body.resultingJob).toBeNull();
    expect(pending.body.audit.map((e: { type: string }) => e.type)).toEqual([
      "RETRY_INTENT_CREATED",
    ]);
    expect(pending.body.audit[0]).toMatchObject({
      actor: tokens.actors.admin,
      requestId: created.headers.get("x-request-id"),
      ip: "203.0.113.7",
      userAgent: "ops-console/2.1",
    });

    const executed = await call(app, "POST", `/api/admin/retry-intents/${intent.id}/execute`, {
      token: tokens.secondAdmin,
    });
    expect(executed.status).toBe(201);
    const retry = executed.body.job;
    expect(executed.body.intent).toMatchObject({
      id: intent.id,
      status: "CONSUMED",
      consumedBy: tokens.actors.secondAdmin,
    });
    expect(retry).toMatchObject({
      status: "PENDING",
      generator: "demo",
      input: { text: "hello", failAttempts: 1 },
      retryOfJobId: jobId,
      retryIntentId: intent.id,
      createdBy: tokens.actors.secondAdmin,
    });
    expect(retry.id).not.toBe(jobId);

    const after = await call(app, "GET", `/api/admin/jobs/${jobId}`, { token: tokens.viewer });
    expect(after.body.job).toEqual(original.body.job);
    expect(
      after.body.lineage.map((l: { depth: number; job: { id: string } }) => [l.depth, l.job.id]),
    ).toEqual([
      [0, jobId],
      [1, retry.id],
    ]);
    expect(after.body.intents.map((i: { id: string; status: string }) => [i.id, i.status])).toEqual(
      [[intent.id, "CONSUMED"]],
    );

    const consumed = await call(app, "GET", `/api/admin/retry-intents/${intent.id}`, {
      token: tokens.viewer,
    });
    expect(consumed.body.resultingJob.id).toBe(retry.id);
    expect(consumed.body.audit.map((e: { type: string }) => e.type)).toEqual([
      "RETRY_INTENT_CREATED",
      "RETRY_INTENT_CONSUMED",
      "RETRY_INTENT_EXECUTED",
    ]);
    for (const event of consumed.body.audit.slice(1)) {
      expect(event).toMatchObject({
        actor: tokens.actors.secondAdmin,
        requestId: executed.headers.get("x-request-id"),
        userAgent: "regent-tests",
      });
    }

    const trail = await call(app, "GET", `/api/admin/audit?subjectId=${jobId}`, {
      token: tokens.viewer,
    });
    expect(trail.body.items.map((e: { type: string }) => e.type)).toEqual([
      "REGEN_JOB_RETRIED",
      "JOB_FAILED",
      "JOB_CLAIMED",
      "JOB_CREATED",
    ]);
    expect(trail.body.items[0].data).toMatchObject({
      retryJobId: retry.id,
      retryIntentId: intent.id,
      approvedBy: tokens.actors.admin,
    });
  });

  it("rejects a pending intent with a reason, and it can then never be executed", async () => {
    const jobId = await failed();
    const intent = (await createIntent(jobId)).body.intent;
    const rejected = await call(app, "POST", `/api/admin/retry-intents/${intent.id}/reject`, {
      token: tokens.admin,
      body: { reasonText: "the input is wrong; resubmit instead" },
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body.intent).toMatchObject({
      status: "REJECTED",
      rejectedBy: tokens.actors.admin,
      rejectionText: "the input is wrong; resubmit instead",
    });
    const execute = await call(app, "POST", `/api/admin/retry-intents/${intent.id}/execute`, {
      token: tokens.admin,
    });
    expect(execute.status).toBe(409);
    expect(execute.body.error).toMatchObject({
      code: "INTENT_NOT_PENDING",
      details: { intentId: intent.id, status: "REJECTED" },
    });
    expect(execute.body.error.details.jobId).toBeUndefined();
    // A new intent may follow a rejected one.
    expect((await createIntent(jobId)).status).toBe(201);
  });

  it("requires a non-blank reason to reject", async () => {
    const intent = (await createIntent(await failed())).body.intent;
    for (const body of [{ reasonText: "   " }, {}, { reasonText: "x".repeat(2001) }]) {
      const response = await call(app, "POST", `/api/admin/retry-intents/${intent.id}/reject`, {
        token: tokens.admin,
        body,
      });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe("VALIDATION_FAILED");
    }
  });
});

describe("refusals of the retry lifecycle", () => {
  it("404 JOB_NOT_FOUND for an intent on a job that does not exist", async () => {
    const response = await createIntent("zzzzzzzzzzzzzzzzzzzzzzzz");
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("JOB_NOT_FOUND");
  });

  it("409 JOB_NOT_FAILED for a job that did not fail", async () => {
    const jobId = await submit("still pending");
    const response = await createIntent(jobId);
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({
      code: "JOB_NOT_FAILED",
      details: { jobId, status: "PENDING" },
    });
  });

  it("409 INTENT_ALREADY_PENDING while another intent waits", async () => {
    const jobId = await failed();
    const first = await createIntent(jobId);
    const second = await createIntent(jobId, tokens.secondAdmin);
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({
      code: "INTENT_ALREADY_PENDING",
      details: { jobId, intentId: first.body.intent.id },
    });
  });

  it("409 JOB_ALREADY_RETRIED naming the retry job", async () => {
    const jobId = await failed();
    const intent = (await createIntent(jobId)).body.intent;
    const executed = await call(app, "POST", `/api/admin/retry-intents/${intent.id}/execute`, {
      token: tokens.admin,
    });
    const again = await createIntent(jobId);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: "JOB_ALREADY_RETRIED",
      details: { jobId, retryJobId: executed.body.job.id },
    });
  });

  it("409 INTENT_NOT_PENDING for a consumed intent, carrying the job it created", async () => {
    const intent = (await createIntent(await failed())).body.intent;
    const first = await call(app, "POST", `/api/admin/retry-intents/${intent.id}/execute`, {
      token: tokens.admin,
    });
    for (const action of ["execute", "reject"]) {
      const again = await call(app, "POST", `/api/admin/retry-intents/${intent.id}/${action}`, {
        token: tokens.admin,
        ...(action === "reject" ? { body: { reasonText: "too late" } } : {}),
      });
      expect(again.status).toBe(409);
      expect(again.body.error).toMatchObject({
        code: "INTENT_NOT_PENDING",
        details: { intentId: intent.id, status: "CONSUMED", jobId: first.body.job.id },
      });
    }
  });

  it("404 INTENT_NOT_FOUND for an unknown or malformed intent id", async () => {
    for (const id of ["zzzzzzzzzzzzzzzzzzzzzzzz", "NOT-AN-ID", "%00", "a".repeat(300)]) {
      for (const [method, suffix] of [
        ["GET", ""],
        ["POST", "/execute"],
      ] as const) {
        const response = await call(app, method, `/api/admin/retry-intents/${id}${suffix}`, {
          token: tokens.admin,
        });
        expect(response.status).toBe(404);
        expect(response.body.error.code).toBe("INTENT_NOT_FOUND");
      }
    }
  });
});

describe("double execution", () => {
  it("of 40 concurrent executes, exactly one creates the job; 39 get INTENT_NOT_PENDING with it", async () => {
    const jobId = await failed();
    const intent = (await createIntent(jobId)).body.intent;
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call(app, "POST", `/api/admin/retry-intents/${intent.id}/execute`, {
          token: i % 2 === 0 ? tokens.admin : tokens.secondAdmin,
        }),
      ),
    );
    const created = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status === 409);
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(39);
    const jobIdCreated = created[0]?.body.job.id;
    for (const r of refused) {
      expect(r.body.error.code).toBe("INTENT_NOT_PENDING");
      expect(r.body.error.details.jobId).toBe(jobIdCreated);
    }
    const { rows } = await t.raw.query(
      "SELECT id FROM regeneration_jobs WHERE retry_of_job_id = $1",
      [jobId],
    );
    expect(rows).toEqual([{ id: jobIdCreated }]);
    const events = await t.raw.query(
      "SELECT count(*)::int AS n FROM audit_events WHERE subject_id = $1 AND type = 'RETRY_INTENT_EXECUTED'",
      [intent.id],
    );
    expect(events.rows[0].n).toBe(1);
  });
});

describe("the four-eyes rule (REQUIRE_DISTINCT_EXECUTOR)", () => {
  it("is off by default: the approver may execute", async () => {
    const intent = (await createIntent(await failed())).body.intent;
    const response = await call(app, "POST", `/api/admin/retry-intents/${intent.id}/execute`, {
      token: tokens.admin,
    });
    expect(response.status).toBe(201);
  });

  it("when on, refuses the approver with 403 FOUR_EYES_REQUIRED and lets another admin execute", async () => {
    await usePolicy(t, { REQUIRE_DISTINCT_EXECUTOR: "true" });
    const strict = testApp(t.db, { REQUIRE_DISTINCT_EXECUTOR: "true" });
    const intent = (await createIntent(await failed())).body.intent;
    const self = await call(strict, "POST", `/api/admin/retry-intents/${intent.id}/execute`, {
      token: tokens.admin,
    });
    expect(self.status).toBe(403);
    expect(self.body.error).toMatchObject({
      code: "FOUR_EYES_REQUIRED",
      details: { intentId: intent.id, approvedBy: tokens.actors.admin },
    });
    const other = await call(strict, "POST", `/api/admin/retry-intents/${intent.id}/execute`, {
      token: tokens.secondAdmin,
    });
    expect(other.status).toBe(201);
    expect(other.body.intent.consumedBy).toBe(tokens.actors.secondAdmin);
  });
});

describe("pagination", () => {
  it("walks every job once, newest first, with a stable cursor", async () => {
    const mine = [];
    for (let i = 0; i < 7; i++) mine.push(await submit(`page ${i}`, tokens.otherSubmitter));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await call(app, "GET", `/api/admin/jobs${query}`, { token: tokens.viewer });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((j: { id: string }) => j.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    const { rows } = await t.raw.query(
      "SELECT id FROM regeneration_jobs ORDER BY created_at DESC, id DESC",
    );
    expect(seen).toEqual(rows.map((r: { id: string }) => r.id));
    expect(pages).toBe(Math.ceil(rows.length / 3));
  });

  it("filters by status and generator", async () => {
    const failedPage = await call(app, "GET", "/api/admin/jobs?status=FAILED&limit=200", {
      token: tokens.viewer,
    });
    expect(failedPage.body.items.length).toBeGreaterThan(0);
    expect(failedPage.body.items.every((j: { status: string }) => j.status === "FAILED")).toBe(
      true,
    );
    const none = await call(app, "GET", "/api/admin/jobs?generator=http", { token: tokens.viewer });
    expect(none.body).toEqual({ items: [], nextCursor: null });
  });

  it("lists intents by job and status, and audit events by type", async () => {
    const jobId = await failed();
    const intent = (await createIntent(jobId)).body.intent;
    const byJob = await call(app, "GET", `/api/admin/retry-intents?jobId=${jobId}`, {
      token: tokens.viewer,
    });
    expect(byJob.body.items.map((i: { id: string }) => i.id)).toEqual([intent.id]);
    const pending = await call(app, "GET", "/api/admin/retry-intents?status=PENDING&limit=1", {
      token: tokens.viewer,
    });
    expect(pending.body.items).toHaveLength(1);
    expect(pending.body.items[0].status).toBe("PENDING");
    expect(typeof pending.body.nextCursor).toBe("string");
    const next = await call(
      app,
      "GET",
      `/api/admin/retry-intents?status=PENDING&limit=1&cursor=${pending.body.nextCursor}`,
      { token: tokens.viewer },
    );
    expect(next.body.items[0].id).not.toBe(pending.body.items[0].id);
    const created = await call(app, "GET", "/api/admin/audit?type=RETRY_INTENT_CREATED&limit=2", {
      token: tokens.viewer,
    });
    expect(created.body.items).toHaveLength(2);
    expect(created.body.items[0].id).toBeGreaterThan(created.body.items[1].id);
    const older = await call(
      app,
      "GET",
      `/api/admin/audit?type=RETRY_INTENT_CREATED&limit=2&cursor=${created.body.nextCursor}`,
      { token: tokens.viewer },
    );
    expect(older.body.items[0].id).toBeLessThan(created.body.items[1].id);
  });

  it("refuses limits out of 1..200 and cursors it did not issue with 400", async () => {
    for (const query of [
      "limit=0",
      "limit=201",
      "limit=-1",
      "limit=1e2",
      "limit=abc",
      "limit=",
      "limit=1&limit=2",
      "cursor=",
      "cursor=!!!",
      "cursor=bm90LWEtam9i",
      `cursor=${"A".repeat(301)}`,
      "status=DONE",
      "stauts=FAILED",
    ]) {
      const response = await call(app, "GET", `/api/admin/jobs?${query}`, { token: tokens.viewer });
      expect(response.status, query).toBe(400);
      expect(response.body.error.code).toBe("VALIDATION_FAILED");
    }
  });
});

describe("the audit log through the API", () => {
  it("filters by who acted and by when, and refuses a window that ends before it starts", async () => {
    const { rows } = await t.raw.query<{ actor: string; at: Date }>(
      "SELECT actor, created_at AS at FROM audit_events WHERE actor LIKE 'token:%' ORDER BY id LIMIT 1",
    );
    const { actor, at } = rows[0] as { actor: string; at: Date };
    const byActor = await call(
      app,
      "GET",
      `/api/admin/audit?actor=${encodeURIComponent(actor)}&limit=200`,
      {
        token: tokens.viewer,
      },
    );
    expect(byActor.status).toBe(200);
    expect(byActor.body.items.length).toBeGreaterThan(0);
    expect(byActor.body.items.every((e: { actor: string }) => e.actor === actor)).toBe(true);

    const after = new Date(at.getTime() + 1).toISOString().replace(/\.\d{3}Z$/, "Z");
    const since = await call(app, "GET", `/api/admin/audit?after=${after}&limit=200`, {
      token: tokens.viewer,
    });
    expect(since.status).toBe(200);
    for (const event of since.body.items as { createdAt: string }[]) {
      expect(Date.parse(event.createdAt)).toBeGreaterThanOrEqual(Date.parse(after));
    }
    const until = await call(app, "GET", `/api/admin/audit?before=${after}&limit=200`, {
      token: tokens.viewer,
    });
    for (const event of until.body.items as { createdAt: string }[]) {
      expect(Date.parse(event.createdAt)).toBeLessThan(Date.parse(after));
    }
    expect(until.body.items.length + since.body.items.length).toBeGreaterThan(0);

    for (const query of [
      "after=2026-01-02T00:00:00Z&before=2026-01-01T00:00:00Z",
      "after=yesterday",
      `actor=${encodeURIComponent("a\u0001b")}`,
    ]) {
      const refused = await call(app, "GET", `/api/admin/audit?${query}`, { token: tokens.viewer });
      expect(refused.status, query).toBe(400);
      expect(refused.body.error.code, query).toBe("VALIDATION_FAILED");
    }
  });
});
