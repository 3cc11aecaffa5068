/**
 * Retries that change what failed, and supersession of COMPLETED jobs, on real PostgreSQL:
 * through the API and the worker end to end, every refusal with nothing written, every rule
 * refused again as raw SQL by the application role, and 40 executes of one supersession.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { type ApiApp, call, createTokens, type Tokens, testApp } from "../helpers/api";
import { type AppRoleMember, appRoleMember } from "../helpers/app-role";
import { freshDatabase, type TestDatabase } from "../helpers/db";

let t: TestDatabase;
let api: ApiApp;
let tokens: Tokens;
let member: AppRoleMember;

beforeAll(async () => {
  t = await freshDatabase();
  api = testApp(t.db);
  tokens = await createTokens(t.db);
  member = await appRoleMember(t);
});

const work = () =>
  runWorkerInvocation(t.db, { budgetMs: 10_000, concurrency: 4, batchSize: 50, log: () => {} });

async function submitted(input: unknown): Promise<string> {
  const response = await call(api, "POST", "/api/jobs", {
    token: tokens.submitter,
    body: { generator: "demo", input },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.job.id;
}

/** A demo job run by the worker: FAILED (DEMO_FAILURE) with failAttempts, else COMPLETED. */
async function ranJob(input: unknown): Promise<string> {
  const id = await submitted(input);
  await work();
  return id;
}

const intent = (body: Record<string, unknown>) =>
  call(api, "POST", "/api/admin/retry-intents", { token: tokens.admin, body });
const execute = (intentId: string) =>
  call(api, "POST", `/api/admin/retry-intents/${intentId}/execute`, { token: tokens.admin });

/** The rows of a job and its output exactly as stored, for byte-for-byte comparisons. */
async function stored(jobId: string): Promise<string> {
  const { rows } = await t.raw.query(
    `SELECT row_to_json(j)::text AS job, (SELECT row_to_json(o)::text FROM regeneration_outputs o
       WHERE o.job_id = j.id) AS output FROM regeneration_jobs j WHERE j.id = $1`,
    [jobId],
  );
  return JSON.stringify(rows[0]);
}

async function writes(): Promise<number[]> {
  const { rows } = await t.raw.query(
    `SELECT (SELECT count(*) FROM regeneration_jobs)::int AS a, (SELECT count(*) FROM retry_intents)::int AS b,
            (SELECT count(*) FROM audit_events)::int AS c, (SELECT count(*) FROM idempotency_keys)::int AS d`,
  );
  return Object.values(rows[0]) as number[];
}

describe("a corrected input", () => {
  it("retries a job that failed for its input with the input an admin corrected, and it completes", async () => {
    const failed = await ranJob({ text: "hello", failAttempts: 9 });
    const before = await stored(failed);
    const created = await intent({
      sourceJobId: failed,
      reasonCode: "BAD_INPUT",
      reasonText: "failAttempts was never meant to be there",
      input: { text: "hello" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.intent).toMatchObject({ kind: "RETRY", input: { text: "hello" } });
    const { rows: events } = await t.raw.query(
      "SELECT data FROM audit_events WHERE subject_id = $1 AND type = 'RETRY_INTENT_CREATED'",
      [created.body.intent.id],
    );
    expect(events[0].data).toMatchObject({
      kind: "RETRY",
      inputSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      sourceVersion: "demo@1",
      currentVersion: "demo@1",
    });
    const detail = await call(api, "GET", `/api/admin/retry-intents/${created.body.intent.id}`, {
      token: tokens.viewer,
    });
    expect(detail.body.versions).toEqual({ source: "demo@1", current: "demo@1" });

    const executed = await execute(created.body.intent.id);
    expect(executed.status).toBe(201);
    expect(executed.body.job).toMatchObject({ retryOfJobId: failed, input: { text: "hello" } });
    await work();
    const own = await call(api, "GET", `/api/jobs/${executed.body.job.id}`, {
      token: tokens.submitter,
    });
    expect(own.status).toBe(200);
    expect(own.body.job.status).toBe("COMPLETED");
    expect(own.body.output.content).toEqual({ text: "HELLO" });
    expect(await stored(failed)).toBe(before);
    const original = await call(api, "GET", `/api/jobs/${failed}`, { token: tokens.submitter });
    expect(original.body.latest).toEqual({ jobId: executed.body.job.id, status: "COMPLETED" });
    const admin = await call(api, "GET", `/api/admin/jobs/${failed}`, { token: tokens.viewer });
    expect(admin.body.latest).toEqual({ jobId: executed.body.job.id, status: "COMPLETED" });
    expect(admin.body.versions).toEqual({ source: "demo@1", current: "demo@1" });
    expect(admin.body.job.error).toMatchObject({
      code: "DEMO_FAILURE",
      generatorVersion: "demo@1",
    });
  });

  it("is refused with a reason that blames nothing in the job, and when its schema refuses it: 400, nothing written", async () => {
    const failed = await ranJob({ text: "x", failAttempts: 9 });
    const before = await writes();
    for (const reasonCode of ["TRANSIENT_FAILURE", "INFRA_ERROR"]) {
      const refused = await intent({
        sourceJobId: failed,
        reasonCode,
        reasonText: "try it differently",
        input: { text: "x" },
      });
      expect(refused.status, reasonCode).toBe(400);
      expect(refused.body.error).toMatchObject({
        code: "VALIDATION_FAILED",
        details: { field: "input", reasonCode },
      });
    }
    const invalid = await intent({
      sourceJobId: failed,
      reasonCode: "BAD_INPUT",
      reasonText: "a number is not a text",
      input: { text: 42 },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details).toMatchObject({ field: "input", generator: "demo" });
    expect(invalid.body.error.details.issues[0].path).toEqual(["input", "text"]);
    expect(await writes()).toEqual(before);
  });
});

describe("supersession", () => {
  it("supersedes a COMPLETED job with an improved prompt; its successor completes, the original stays as it was", async () => {
    const done = await ranJob({ text: "draft" });
    const before = await stored(done);
    const created = await intent({
      sourceJobId: done,
      kind: "SUPERSEDE",
      reasonCode: "IMPROVED_PROMPT",
      reasonText: "the final wording",
      input: { text: "final" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.intent).toMatchObject({ kind: "SUPERSEDE", input: { text: "final" } });
    const executed = await execute(created.body.intent.id);
    expect(executed.status).toBe(201);
    expect(executed.body.job).toMatchObject({ retryOfJobId: done, status: "PENDING" });
    await work();
    expect(await stored(done)).toBe(before);
    const original = await call(api, "GET", `/api/jobs/${done}`, { token: tokens.submitter });
    expect(original.body.output.content).toEqual({ text: "DRAFT" });
    expect(original.body.latest).toEqual({ jobId: executed.body.job.id, status: "COMPLETED" });
    const successor = await call(api, "GET", `/api/jobs/${executed.body.job.id}`, {
      token: tokens.submitter,
    });
    expect(successor.status).toBe(200);
    expect(successor.body.output.content).toEqual({ text: "FINAL" });
    const { rows } = await t.raw.query(
      "SELECT type, data FROM audit_events WHERE subject_id = $1 AND type LIKE 'REGEN_JOB_%'",
      [done],
    );
    expect(rows).toEqual([
      {
        type: "REGEN_JOB_SUPERSEDED",
        data: expect.objectContaining({
          retryJobId: executed.body.job.id,
          reasonCode: "IMPROVED_PROMPT",
        }),
      },
    ]);
    // Counted apart from retries.
    const signals = await call(api, "GET", "/api/admin/metrics", { token: tokens.viewer });
    const superseded = signals.body.supersessionJobs.find(
      (s: { reasonCode: string; outcome: string }) =>
        s.reasonCode === "IMPROVED_PROMPT" && s.outcome === "completed",
    );
    expect(superseded.count).toBe(1);
    expect(
      signals.body.retryJobs.find(
        (s: { reasonCode: string; outcome: string }) =>
          s.reasonCode === "IMPROVED_PROMPT" && s.outcome === "completed",
      ).count,
    ).toBe(0);
  });

  it("refuses what is not a supersession or not a retry, and a second successor, with nothing written", async () => {
    const failed = await ranJob({ text: "f", failAttempts: 9 });
    const done = await ranJob({ text: "d" });
    const before = await writes();
    const supersedeFailed = await intent({
      sourceJobId: failed,
      kind: "SUPERSEDE",
      reasonCode: "IMPROVED_PROMPT",
      reasonText: "x",
    });
    expect(supersedeFailed.status).toBe(409);
    expect(supersedeFailed.body.error).toMatchObject({
      code: "JOB_NOT_COMPLETED",
      details: { jobId: failed, status: "FAILED" },
    });
    const retryDone = await intent({ sourceJobId: done, reasonCode: "OTHER", reasonText: "x" });
    expect(retryDone.status).toBe(409);
    expect(retryDone.body.error.code).toBe("JOB_NOT_FAILED");
    const transient = await intent({
      sourceJobId: done,
      kind: "SUPERSEDE",
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "x",
    });
    expect(transient.status).toBe(400);
    expect(transient.body.error.details).toMatchObject({ field: "reasonCode", kind: "SUPERSEDE" });
    expect(await writes()).toEqual(before);

    const first = await intent({
      sourceJobId: done,
      kind: "SUPERSEDE",
      reasonCode: "OTHER",
      reasonText: "once",
    });
    expect((await execute(first.body.intent.id)).status).toBe(201);
    const afterFirst = await writes();
    const second = await intent({
      sourceJobId: done,
      kind: "SUPERSEDE",
      reasonCode: "OTHER",
      reasonText: "twice",
    });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({
      code: "JOB_ALREADY_RETRIED",
      details: { jobId: done, kind: "SUPERSEDE" },
    });
    expect(second.body.error.message).toContain("already has its successor");
    expect(await writes()).toEqual(afterFirst);
  });

  it("counts every successor against the budget: a chain of supersessions ends at RETRY_BUDGET", async () => {
    let job = await ranJob({ text: "v0" });
    for (let i = 1; i <= 3; i++) {
      const created = await intent({
        sourceJobId: job,
        kind: "SUPERSEDE",
        reasonCode: "IMPROVED_PROMPT",
        reasonText: `version ${i}`,
        input: { text: `v${i}` },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      job = (await execute(created.body.intent.id)).body.job.id;
      await work();
    }
    const over = await intent({
      sourceJobId: job,
      kind: "SUPERSEDE",
      reasonCode: "IMPROVED_PROMPT",
      reasonText: "a fourth",
    });
    expect(over.status).toBe(409);
    expect(over.body.error).toMatchObject({
      code: "RETRY_BUDGET_EXHAUSTED",
      details: { depth: 3, budget: 3 },
    });
  });

  it("of 40 concurrent executes of one supersede intent, exactly one creates the job", async () => {
    const done = await ranJob({ text: "race" });
    const created = await intent({
      sourceJobId: done,
      kind: "SUPERSEDE",
      reasonCode: "BAD_INPUT",
      reasonText: "race",
      input: { text: "raced" },
    });
    const responses = await Promise.all(
      Array.from({ length: 40 }, () => execute(created.body.intent.id)),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(39);
    const { rows } = await t.raw.query(
      "SELECT count(*)::int AS n FROM regeneration_jobs WHERE retry_of_job_id = $1",
      [done],
    );
    expect(rows[0].n).toBe(1);
  });

  it("takes a batch of COMPLETED jobs by generator version, one supersede intent each", async () => {
    const a = await ranJob({ text: "batch a" });
    const b = await ranJob({ text: "batch b" });
    const filter = { generator: "demo", generatorVersion: "demo@1" };
    const preview = await call(api, "POST", "/api/admin/retry-batches/preview", {
      token: tokens.admin,
      body: { kind: "SUPERSEDE", filter },
    });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(preview.body.jobIds).toEqual(expect.arrayContaining([a, b]));
    const refused = await call(api, "POST", "/api/admin/retry-batches/preview", {
      token: tokens.admin,
      body: { kind: "SUPERSEDE", filter: { errorCode: "DEMO_FAILURE" } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.field).toBe("filter.errorCode");
    const batch = await call(api, "POST", "/api/admin/retry-batches", {
      token: tokens.admin,
      body: {
        kind: "SUPERSEDE",
        filter,
        previewToken: preview.body.previewToken,
        reasonCode: "IMPROVED_PROMPT",
        reasonText: "the prompt of demo@1 was improved",
      },
    });
    expect(batch.status, JSON.stringify(batch.body)).toBe(201);
    expect(batch.body.batch).toMatchObject({ kind: "SUPERSEDE", jobCount: preview.body.count });
    const executed = await call(
      api,
      "POST",
      `/api/admin/retry-batches/${batch.body.batch.id}/execute`,
      {
        token: tokens.admin,
      },
    );
    expect(executed.status, JSON.stringify(executed.body)).toBe(200);
    expect(executed.body.created).toBe(preview.body.count);
    const { rows } = await t.raw.query(
      `SELECT count(*)::int AS n FROM regeneration_jobs j JOIN retry_intents i ON i.id = j.retry_intent_id
       WHERE i.batch_id = $1 AND i.kind = 'SUPERSEDE'`,
      [batch.body.batch.id],
    );
    expect(rows[0].n).toBe(preview.body.count);
  });
});

describe("the rules, against the application role's raw SQL", () => {
  async function refusedInTransaction(statements: string[], message: RegExp) {
    await member.raw.query("BEGIN");
    try {
      let error: unknown;
      for (const statement of statements) {
        try {
          await member.raw.query(statement);
        } catch (e) {
          error = e;
          break;
        }
      }
      if (!error) {
        try {
          await member.raw.query("COMMIT");
        } catch (e) {
          error = e;
        }
      }
      expect(String((error as Error | undefined)?.message), statements.join("; ")).toMatch(message);
    } finally {
      await member.raw.query("ROLLBACK").catch(() => {});
    }
  }

  const intentRow = (id: string, jobId: string, kind: string, reason: string, input = "NULL") =>
    `INSERT INTO retry_intents (id, source_job_id, kind, input, reason_code, reason_text, approved_by)
     VALUES ('${id}', '${jobId}', '${kind}', ${input}, '${reason}', 'by hand', 'raw')`;
  const createdEvent = (id: string) =>
    `INSERT INTO audit_events (type, actor, subject_type, subject_id) VALUES ('RETRY_INTENT_CREATED', 'raw', 'retry_intent', '${id}')`;

  it("refuses a corrected input with a reason that blames nothing, and a supersession of a FAILED job", async () => {
    const failed = await ranJob({ text: "raw", failAttempts: 9 });
    await refusedInTransaction(
      [intentRow("rawi1", failed, "RETRY", "TRANSIENT_FAILURE", `'{"text":"x"}'`)],
      /retry_intents_input_reason/,
    );
    await refusedInTransaction(
      [intentRow("rawi2", failed, "SUPERSEDE", "IMPROVED_PROMPT"), createdEvent("rawi2")],
      /a SUPERSEDE intent is for a COMPLETED job/,
    );
    await refusedInTransaction(
      [intentRow("rawi3", failed, "SUPERSEDE", "INFRA_ERROR")],
      /retry_intents_supersede_reason/,
    );
  });

  it("refuses a retry job whose input is neither its intent's corrected one nor, without one, its source's", async () => {
    const failed = await ranJob({ text: "source", failAttempts: 9 });
    const consumeAndInsert = (intentId: string, input: string) => [
      intentRow(
        intentId,
        failed,
        "RETRY",
        "BAD_INPUT",
        intentId === "rawc1" ? `'{"text":"corrected"}'` : "NULL",
      ),
      createdEvent(intentId),
      `UPDATE retry_intents SET status = 'CONSUMED', consumed_by = 'raw', consumed_at = now() WHERE id = '${intentId}'`,
      `INSERT INTO audit_events (type, actor, subject_type, subject_id) VALUES ('RETRY_INTENT_CONSUMED', 'raw', 'retry_intent', '${intentId}')`,
      `INSERT INTO regeneration_jobs (id, generator, input, retry_of_job_id, retry_intent_id, created_by)
       VALUES ('rawjob${intentId}', 'demo', '${input}', '${failed}', '${intentId}', 'raw')`,
    ];
    // The source's input where the intent corrected it.
    await refusedInTransaction(
      consumeAndInsert("rawc1", `{"text":"source","failAttempts":9}`),
      /runs the corrected input of its intent rawc1/,
    );
    // A changed input where the intent corrected nothing.
    await refusedInTransaction(
      consumeAndInsert("rawc2", `{"text":"changed"}`),
      /runs the same generator and input as job/,
    );
  });

  it("refuses a corrected input inside a batch", async () => {
    const failed = await ranJob({ text: "batched", failAttempts: 9 });
    await refusedInTransaction(
      [
        `INSERT INTO retry_batches (id, filter, reason_code, reason_text, approved_by, job_count)
         VALUES ('rawb1', '{}', 'BAD_INPUT', 'by hand', 'raw', 1)`,
        `INSERT INTO retry_intents (id, source_job_id, input, reason_code, reason_text, approved_by, batch_id)
         VALUES ('rawbi1', '${failed}', '{"text":"x"}', 'BAD_INPUT', 'by hand', 'raw', 'rawb1')`,
      ],
      /a corrected input is approved one job at a time/,
    );
  });
});
