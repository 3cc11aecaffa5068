import { beforeAll, describe, expect, it } from "vitest";
import { submitJob } from "../../functions/domain/jobs";
import {
  type ApiApp,
  call,
  createTokens,
  type JsonBody,
  type Tokens,
  testApp,
} from "../helpers/api";
import { freshDatabase, setPolicy, type TestDatabase, usePolicy } from "../helpers/db";
import { failedJob, failJob, submitter } from "../helpers/fixtures";

/**
 * The governance an admin meets on the single-intent routes: a chain's retry budget and its
 * explicit override, an approval's expiry, and what the job detail suggests and counts.
 */

let t: TestDatabase;
let app: ApiApp;
let tokens: Tokens;

const BUDGET = 2;

const count = async (sql: string, params: unknown[] = []) =>
  Number(Object.values((await t.raw.query(sql, params)).rows[0])[0]);

function approve(sourceJobId: string, extra: JsonBody = {}, on = app) {
  return call(on, "POST", "/api/admin/retry-intents", {
    token: tokens.admin,
    body: { sourceJobId, reasonCode: "TRANSIENT_FAILURE", reasonText: "timed out", ...extra },
  });
}

/** Approves, executes and fails the retry of `jobId`; returns the failed retry's id. */
async function retryAndFail(jobId: string, extra: JsonBody = {}): Promise<string> {
  const intent = await approve(jobId, extra);
  expect(intent.status, JSON.stringify(intent.body)).toBe(201);
  const executed = await call(
    app,
    "POST",
    `/api/admin/retry-intents/${intent.body.intent.id}/execute`,
    { token: tokens.admin },
  );
  expect(executed.status).toBe(201);
  return (await failJob(t.db, executed.body.job.id)).id;
}

const jobDetail = async (id: string) =>
  (await call(app, "GET", `/api/admin/jobs/${id}`, { token: tokens.viewer })).body;

beforeAll(async () => {
  t = await freshDatabase();
  // The budget is the database's: written as a server's start writes its configuration.
  await setPolicy(t, { retryBudget: BUDGET });
  app = testApp(t.db, { RETRY_BUDGET: String(BUDGET) });
  tokens = await createTokens(t.db);
});

describe("the retry budget of a chain", () => {
  let original: string;
  let last: string;

  it(`allows ${BUDGET} governed retries, then refuses with 409 RETRY_BUDGET_EXHAUSTED, writing nothing`, async () => {
    original = (await failedJob(t.db)).id;
    last = original;
    for (let i = 0; i < BUDGET; i++) last = await retryAndFail(last);
    const detail = await jobDetail(last);
    expect(detail).toMatchObject({ retryDepth: BUDGET, retryBudget: BUDGET });
    expect((await jobDetail(original)).retryDepth).toBe(0);

    const intents = await count("SELECT count(*) FROM retry_intents");
    const events = await count("SELECT count(*) FROM audit_events");
    const refused = await approve(last);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: "RETRY_BUDGET_EXHAUSTED",
      details: { jobId: last, depth: BUDGET, budget: BUDGET },
    });
    expect(await count("SELECT count(*) FROM retry_intents")).toBe(intents);
    expect(await count("SELECT count(*) FROM audit_events")).toBe(events);
    // Under the default budget (3), written by a server started without RETRY_BUDGET, this
    // chain still has room: the budget is the database's, the same for every server.
    await usePolicy(t, {});
    expect((await approve(last)).status).toBe(201);
  });

  it("400 VALIDATION_FAILED for overrideBudget with a reason code other than OTHER", async () => {
    const fresh = (await failedJob(t.db)).id;
    for (const [jobId, reasonCode] of [
      [last, "TRANSIENT_FAILURE"],
      [fresh, "INFRA_ERROR"],
    ] as const) {
      const refused = await approve(jobId, { overrideBudget: true, reasonCode });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({
        code: "VALIDATION_FAILED",
        details: { field: "overrideBudget" },
      });
    }
    for (const overrideBudget of ["true", 1, null]) {
      expect((await approve(fresh, { overrideBudget, reasonCode: "OTHER" })).status).toBe(400);
    }
  });

  it("goes past the budget with overrideBudget and reason code OTHER, recorded on the intent and in its event", async () => {
    // The intent the default budget let through above waits for this job; reject it first.
    const waiting = await call(
      app,
      "GET",
      `/api/admin/retry-intents?jobId=${last}&status=PENDING`,
      {
        token: tokens.viewer,
      },
    );
    await call(app, "POST", `/api/admin/retry-intents/${waiting.body.items[0].id}/reject`, {
      token: tokens.admin,
      body: { reasonText: "decided with the override instead" },
    });
    const created = await approve(last, {
      overrideBudget: true,
      reasonCode: "OTHER",
      reasonText: "the provider confirmed the outage; one more try",
    });
    expect(created.status).toBe(201);
    expect(created.body.intent).toMatchObject({
      sourceJobId: last,
      reasonCode: "OTHER",
      budgetOverride: true,
      batchId: null,
    });
    const detail = await call(app, "GET", `/api/admin/retry-intents/${created.body.intent.id}`, {
      token: tokens.viewer,
    });
    const [event] = detail.body.audit;
    expect(event).toMatchObject({
      type: "RETRY_INTENT_CREATED",
      data: { budgetOverride: true, retryDepth: BUDGET, budget: BUDGET },
    });
    const executed = await call(
      app,
      "POST",
      `/api/admin/retry-intents/${created.body.intent.id}/execute`,
      { token: tokens.secondAdmin },
    );
    expect(executed.status).toBe(201);
    expect((await jobDetail(executed.body.job.id)).retryDepth).toBe(BUDGET + 1);
  });

  it("records no override when the chain is within its budget", async () => {
    const created = await approve((await failedJob(t.db)).id, {
      overrideBudget: true,
      reasonCode: "OTHER",
    });
    expect(created.status).toBe(201);
    expect(created.body.intent.budgetOverride).toBe(false);
    const detail = await call(app, "GET", `/api/admin/retry-intents/${created.body.intent.id}`, {
      token: tokens.viewer,
    });
    expect(detail.body.audit[0].data.budgetOverride).toBeUndefined();
  });
});

describe("the expiry of an approval", () => {
  it("stamps expiresAt from expiresInHours, or INTENT_TTL_HOURS by default", async () => {
    const hoursOf = (intent: JsonBody) =>
      (Date.parse(intent.expiresAt) - Date.parse(intent.approvedAt)) / 3_600_000;
    const asked = await approve((await failedJob(t.db)).id, { expiresInHours: 5 });
    expect(asked.status).toBe(201);
    expect(hoursOf(asked.body.intent)).toBeCloseTo(5, 2);
    const byDefault = await approve((await failedJob(t.db)).id);
    expect(hoursOf(byDefault.body.intent)).toBeCloseTo(72, 2);
    await usePolicy(t, { RETRY_BUDGET: String(BUDGET), INTENT_TTL_HOURS: "10" });
    const configured = await approve((await failedJob(t.db)).id, {});
    expect(hoursOf(configured.body.intent)).toBeCloseTo(10, 2);
    expect(new Date(asked.body.intent.expiresAt).toISOString()).toBe(asked.body.intent.expiresAt);
    const jobId = (await failedJob(t.db)).id;
    for (const expiresInHours of [0, 721, 1.5, "5", -1, null]) {
      const refused = await approve(jobId, { expiresInHours });
      expect(refused.status, String(expiresInHours)).toBe(400);
      expect(refused.body.error.code).toBe("VALIDATION_FAILED");
    }
    expect(
      await count("SELECT count(*) FROM retry_intents WHERE source_job_id = $1", [jobId]),
    ).toBe(0);
  });

  it("refuses to execute an expired intent with 409 INTENT_EXPIRED, and nothing changes", async () => {
    const job = await failedJob(t.db);
    const id = `expired${Math.random().toString(36).slice(2, 10)}`;
    // Approved two hours ago for one hour, as psql would write it: the triggers allow that.
    await t.raw.query("BEGIN");
    await t.raw.query(
      `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by, approved_at, created_at, expires_at)
       VALUES ($1, $2, 'OTHER', 'long ago', 'psql', now() - interval '2 hours', now() - interval '2 hours', now() - interval '1 hour')`,
      [id, job.id],
    );
    await t.raw.query(
      `INSERT INTO audit_events (type, actor, subject_type, subject_id) VALUES ('RETRY_INTENT_CREATED', 'psql', 'retry_intent', $1)`,
      [id],
    );
    await t.raw.query("COMMIT");
    const before = (await t.raw.query("SELECT * FROM retry_intents WHERE id = $1", [id])).rows;
    const events = await count("SELECT count(*) FROM audit_events WHERE type <> 'AUTH_DENIED'");

    const refused = await call(app, "POST", `/api/admin/retry-intents/${id}/execute`, {
      token: tokens.admin,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: "INTENT_EXPIRED",
      details: { intentId: id },
    });
    expect(Date.parse(refused.body.error.details.expiresAt)).toBeLessThan(Date.now());
    expect((await t.raw.query("SELECT * FROM retry_intents WHERE id = $1", [id])).rows).toEqual(
      before,
    );
    expect(
      await count("SELECT count(*) FROM regeneration_jobs WHERE retry_of_job_id = $1", [job.id]),
    ).toBe(0);
    expect(await count("SELECT count(*) FROM audit_events WHERE type <> 'AUTH_DENIED'")).toBe(
      events,
    );
    const shown = await call(app, "GET", `/api/admin/retry-intents/${id}`, {
      token: tokens.viewer,
    });
    expect(shown.body.intent).toMatchObject({
      status: "PENDING",
      budgetOverride: false,
      batchId: null,
    });
  });
});

describe("what the job detail tells the admin deciding", () => {
  it("suggests a reason code from the failure, only for a FAILED job", async () => {
    const cases: [string, string | null][] = [
      ["HTTP_TIMEOUT", "TRANSIENT_FAILURE"],
      ["GENERATOR_TIMEOUT", "TRANSIENT_FAILURE"],
      ["HTTP_STATUS_503", "TRANSIENT_FAILURE"],
      ["INVALID_INPUT", "BAD_INPUT"],
      ["LEASE_EXPIRED", "INFRA_ERROR"],
      ["HTTP_NOT_CONFIGURED", "INFRA_ERROR"],
      ["DEMO_FAILURE", null],
      ["HTTP_STATUS_404", null],
    ];
    for (const [code, suggested] of cases) {
      const job = await submitJob(t.db, submitter, { generator: "demo", input: { text: code } });
      await failJob(t.db, job.id, code);
      const detail = await jobDetail(job.id);
      expect(detail.job.error.code).toBe(code);
      expect(detail.suggestedReasonCode, code).toBe(suggested);
      expect(detail).toMatchObject({ retryDepth: 0, retryBudget: BUDGET });
    }
    const pending = await submitJob(t.db, submitter, { generator: "demo", input: { text: "p" } });
    expect(await jobDetail(pending.id)).toMatchObject({
      suggestedReasonCode: null,
      retryDepth: 0,
      retryBudget: BUDGET,
    });
  });

  it("reports the configured budget, and the retry depth of the job itself within its chain", async () => {
    const original = (await failedJob(t.db)).id;
    const retry = await retryAndFail(original);
    for (const [id, depth] of [
      [original, 0],
      [retry, 1],
    ] as const) {
      expect((await jobDetail(id)).retryDepth).toBe(depth);
    }
    // What the detail reports is the database's budget, whatever the server was started with.
    await usePolicy(t, {});
    const defaults = await call(app, "GET", `/api/admin/jobs/${retry}`, {
      token: tokens.viewer,
    });
    expect(defaults.body).toMatchObject({ retryDepth: 1, retryBudget: 3 });
    const intents = (await jobDetail(original)).intents;
    expect(intents[0]).toMatchObject({ batchId: null, budgetOverride: false });
    expect(typeof intents[0].expiresAt).toBe("string");
  });
});
