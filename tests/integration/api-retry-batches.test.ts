import { beforeAll, describe, expect, it } from "vitest";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import {
  type ApiApp,
  call,
  createTokens,
  type JsonBody,
  type Tokens,
  testApp,
} from "../helpers/api";
import { appRoleMember } from "../helpers/app-role";
import { freshDatabase, setPolicy, type TestDatabase, usePolicy } from "../helpers/db";
import { failedJobs, failJob } from "../helpers/fixtures";

/**
 * Retry batches over HTTP: one approval for the many jobs an incident failed, frozen at the
 * moment of approval, executed all at once and never twice; every refusal writes nothing.
 * Each scenario fails its jobs with an error code of its own and filters on it.
 */

let t: TestDatabase;
let app: ApiApp;
let tokens: Tokens;

const BATCHES = "/api/admin/retry-batches";

/** The one number a `SELECT count(*) …` answers. */
const count = async (sql: string, params: unknown[] = []) =>
  Number(Object.values((await t.raw.query(sql, params)).rows[0])[0]);

/** How many rows each table a batch approval or execution writes to holds. */
async function written() {
  const { rows } = await t.raw.query(`SELECT
    (SELECT count(*) FROM retry_batches)::int AS batches,
    (SELECT count(*) FROM retry_intents)::int AS intents,
    (SELECT count(*) FROM regeneration_jobs)::int AS jobs,
    (SELECT count(*) FROM audit_events WHERE type <> 'AUTH_DENIED')::int AS events,
    (SELECT count(*) FROM idempotency_keys)::int AS keys`);
  return rows[0];
}

function preview(filter: JsonBody, on = app) {
  return call(on, "POST", `${BATCHES}/preview`, { token: tokens.admin, body: { filter } });
}

function approve(body: JsonBody, on = app, options: { token?: string; key?: string } = {}) {
  return call(on, "POST", BATCHES, {
    token: options.token ?? tokens.admin,
    body: { reasonCode: "TRANSIENT_FAILURE", reasonText: "the upstream was down", ...body },
    ...(options.key ? { headers: { "idempotency-key": options.key } } : {}),
  });
}

/** Previews `filter` and approves exactly what the preview showed. */
async function batchOf(filter: JsonBody, on = app, extra: JsonBody = {}) {
  const shown = await preview(filter, on);
  expect(shown.status).toBe(200);
  const created = await approve({ filter, previewToken: shown.body.previewToken, ...extra }, on);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.batch;
}

const execute = (id: string, on = app, token = tokens.admin) =>
  call(on, "POST", `${BATCHES}/${id}/execute`, { token });

beforeAll(async () => {
  t = await freshDatabase({ max: 12 });
  app = testApp(t.db);
  tokens = await createTokens(t.db);
});

describe("an incident: 320 jobs failed, then 20 more", () => {
  const filter = { generator: "demo", errorCode: "UPSTREAM_DOWN" };
  let originals: string[];
  let originalRows: unknown[];
  let batch: JsonBody;

  beforeAll(async () => {
    originals = (await failedJobs(t.db, 320, { code: "UPSTREAM_DOWN" })).map((j) => j.id);
  });

  it("previews 320, then refuses the old token once 20 more failed, writing nothing", async () => {
    const first = await preview(filter);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      count: 320,
      jobIds: [...originals].sort(),
      excluded: { overBudget: 0, pendingIntent: 0 },
    });
    expect(first.body.previewToken).toMatch(/^[0-9]{10}\.[0-9a-f]{64}$/);
    // Previewing again names the same set: its token approves it as the first one would.
    expect((await preview(filter)).body.jobIds).toEqual(first.body.jobIds);

    originals.push(...(await failedJobs(t.db, 20, { code: "UPSTREAM_DOWN" })).map((j) => j.id));
    const before = await written();
    const stale = await approve({ filter, previewToken: first.body.previewToken });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({
      code: "BATCH_PREVIEW_STALE",
      details: { count: 340 },
    });
    expect(await written()).toEqual(before);
    expect(await count("SELECT count(*) FROM retry_batches")).toBe(0);
    expect(await count("SELECT count(*) FROM retry_intents")).toBe(0);
  });

  it("approves the new preview: 340 intents with the batch's reason and approver", async () => {
    const second = await preview(filter);
    expect(second.body.count).toBe(340);
    originalRows = (
      await t.raw.query("SELECT * FROM regeneration_jobs WHERE id = ANY($1) ORDER BY id", [
        originals,
      ])
    ).rows;
    const created = await approve({
      filter,
      previewToken: second.body.previewToken,
      reasonCode: "INFRA_ERROR",
      reasonText: "  the model endpoint was down from 14:00 to 14:20  ",
    });
    expect(created.status).toBe(201);
    batch = created.body.batch;
    expect(batch).toMatchObject({
      filter,
      reasonCode: "INFRA_ERROR",
      reasonText: "the model endpoint was down from 14:00 to 14:20",
      approvedBy: tokens.actors.admin,
      jobCount: 340,
    });
    expect(Object.keys(batch).sort()).toEqual(
      [
        "id",
        "filter",
        "kind",
        "reasonCode",
        "reasonText",
        "approvedBy",
        "approvedAt",
        "jobCount",
        "createdAt",
      ].sort(),
    );
    expect(new Date(batch.approvedAt).toISOString()).toBe(batch.approvedAt);

    expect(await count("SELECT count(*) FROM retry_intents")).toBe(340);
    const { rows } = await t.raw.query(
      `SELECT count(*)::int AS n, count(DISTINCT source_job_id)::int AS jobs
       FROM retry_intents
       WHERE batch_id = $1 AND status = 'PENDING' AND reason_code = 'INFRA_ERROR'
         AND reason_text = $2 AND approved_by = $3 AND source_job_id = ANY($4)`,
      [batch.id, batch.reasonText, tokens.actors.admin, originals],
    );
    expect(rows[0]).toEqual({ n: 340, jobs: 340 });
    expect(
      await count(
        "SELECT count(*) FROM audit_events WHERE type = 'RETRY_BATCH_CREATED' AND subject_id = $1",
        [batch.id],
      ),
    ).toBe(1);
  });

  it("shows the batch and its intents; jobs failing after approval never join", async () => {
    await failedJobs(t.db, 5, { code: "UPSTREAM_DOWN" });
    const detail = await call(app, "GET", `${BATCHES}/${batch.id}`, { token: tokens.viewer });
    expect(detail.status).toBe(200);
    expect(detail.body.batch).toEqual(batch);
    expect(detail.body.counts).toEqual({ pending: 340, consumed: 0, rejected: 0 });
    expect(detail.body.intents).toHaveLength(340);
    expect(detail.body.intents.map((i: JsonBody) => i.sourceJobId).sort()).toEqual(
      [...originals].sort(),
    );
    for (const intent of detail.body.intents) {
      expect(intent).toMatchObject({
        batchId: batch.id,
        status: "PENDING",
        reasonCode: "INFRA_ERROR",
        approvedBy: tokens.actors.admin,
        budgetOverride: false,
        resultingJobId: null,
      });
    }
    // The five are a new preview's business.
    expect((await preview(filter)).body).toMatchObject({
      count: 5,
      excluded: { pendingIntent: 340 },
    });
  });

  it("of two concurrent executes, one creates the 340 jobs and the other none", async () => {
    const responses = await Promise.all([
      execute(batch.id, app, tokens.admin),
      execute(batch.id, app, tokens.secondAdmin),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200]);
    const [winner, loser] = [...responses].sort((a, b) => b.body.created - a.body.created);
    expect(winner?.body).toMatchObject({
      batch: { id: batch.id },
      created: 340,
      skipped: { consumed: 0, rejected: 0, expired: 0 },
      counts: { pending: 0, consumed: 340, rejected: 0 },
    });
    expect(loser?.body).toMatchObject({
      created: 0,
      skipped: { consumed: 340, rejected: 0, expired: 0 },
      counts: { pending: 0, consumed: 340, rejected: 0 },
    });
    expect(
      await count("SELECT count(*) FROM regeneration_jobs WHERE retry_of_job_id = ANY($1)", [
        originals,
      ]),
    ).toBe(340);
    expect(
      await count(
        "SELECT count(*) FROM regeneration_jobs WHERE retry_of_job_id IS NOT NULL AND status = 'PENDING'",
      ),
    ).toBe(340);
    // A third call, later, changes nothing either.
    const again = await execute(batch.id);
    expect(again.body).toMatchObject({ created: 0, skipped: { consumed: 340 } });
    expect(
      await count(
        "SELECT count(*) FROM audit_events WHERE type = 'RETRY_BATCH_EXECUTED' AND subject_id = $1",
        [batch.id],
      ),
    ).toBe(3);
  });

  it("lets the worker complete every retry and leaves every original as it was", async () => {
    const result = await runWorkerInvocation(t.db, {
      budgetMs: 60_000,
      concurrency: 16,
      batchSize: 500,
      log: () => {},
    });
    expect(result).toMatchObject({ claimed: 340, completed: 340, failed: 0 });
    const detail = await call(app, "GET", `${BATCHES}/${batch.id}`, { token: tokens.viewer });
    const retries = detail.body.intents.map((i: JsonBody) => i.resultingJobId);
    expect(new Set(retries).size).toBe(340);
    const { rows } = await t.raw.query(
      `SELECT j.status, j.retry_of_job_id, o.content->>'text' AS text, src.input->>'text' AS source_text
       FROM regeneration_jobs j
       JOIN regeneration_jobs src ON src.id = j.retry_of_job_id
       LEFT JOIN regeneration_outputs o ON o.job_id = j.id
       WHERE j.id = ANY($1)`,
      [retries],
    );
    expect(rows).toHaveLength(340);
    for (const row of rows) {
      expect(row.status).toBe("COMPLETED");
      expect(row.text).toBe(String(row.source_text).toUpperCase());
    }
    const after = await t.raw.query(
      "SELECT * FROM regeneration_jobs WHERE id = ANY($1) ORDER BY id",
      [originals],
    );
    expect(after.rows).toEqual(originalRows);
  });
});

describe("what a preview leaves out", () => {
  it("counts jobs with a pending intent and jobs whose chain spent its budget, and never approves them", async () => {
    await usePolicy(t, { RETRY_BUDGET: "1" });
    const small = testApp(t.db, { RETRY_BUDGET: "1" });
    const [plain, waiting, spent] = await failedJobs(t.db, 3, { code: "EXCLUSIONS" });
    if (!plain || !waiting || !spent) throw new Error("three jobs");
    const intent = await call(app, "POST", "/api/admin/retry-intents", {
      token: tokens.admin,
      body: { sourceJobId: waiting.id, reasonCode: "OTHER", reasonText: "by hand" },
    });
    expect(intent.status).toBe(201);
    // `spent` is retried once and its retry fails too: that chain has used a budget of 1.
    const first = await call(small, "POST", "/api/admin/retry-intents", {
      token: tokens.admin,
      body: { sourceJobId: spent.id, reasonCode: "OTHER", reasonText: "once" },
    });
    const retried = await call(
      small,
      "POST",
      `/api/admin/retry-intents/${first.body.intent.id}/execute`,
      { token: tokens.admin },
    );
    const retry = await failJob(t.db, retried.body.job.id, "EXCLUSIONS");

    const filter = { errorCode: "EXCLUSIONS" };
    const shown = await preview(filter, small);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      count: 1,
      jobIds: [plain.id],
      excluded: { overBudget: 1, pendingIntent: 1 },
    });
    // Under the default budget of 3 the failed retry may be retried again.
    await setPolicy(t, { retryBudget: 3 });
    expect((await preview(filter)).body).toMatchObject({
      count: 2,
      jobIds: [plain.id, retry.id].sort(),
      excluded: { overBudget: 0, pendingIntent: 1 },
    });
    await setPolicy(t, { retryBudget: 1 });
    const created = await approve({ filter, previewToken: shown.body.previewToken }, small);
    expect(created.status).toBe(201);
    expect(created.body.batch.jobCount).toBe(1);
    const detail = await call(small, "GET", `${BATCHES}/${created.body.batch.id}`, {
      token: tokens.viewer,
    });
    expect(detail.body.intents.map((i: JsonBody) => i.sourceJobId)).toEqual([plain.id]);
  });

  it("narrows by failure time: failedAfter inclusive, failedBefore exclusive", async () => {
    const jobs = await failedJobs(t.db, 2, { code: "WINDOWED", generator: "windowed" });
    const finished = jobs[0]?.finishedAt?.toISOString() as string;
    const later = new Date(Date.parse(finished) + 60_000).toISOString();
    const earlier = new Date(Date.parse(finished) - 60_000).toISOString();
    const counted = async (filter: JsonBody) => (await preview(filter)).body.count;
    expect(await counted({ generator: "windowed", failedAfter: earlier })).toBe(2);
    expect(
      await counted({ generator: "windowed", failedAfter: earlier, failedBefore: later }),
    ).toBe(2);
    expect(await counted({ generator: "windowed", failedAfter: later })).toBe(0);
    expect(await counted({ generator: "windowed", failedBefore: earlier })).toBe(0);
    expect(await counted({ generator: "windowed", errorCode: "OTHER_CODE" })).toBe(0);
    // The same instants, written with an offset.
    const at = (iso: string) =>
      `${new Date(Date.parse(iso) + 2 * 3_600_000).toISOString().slice(0, 23)}+02:00`;
    expect(await counted({ generator: "windowed", failedAfter: at(earlier) })).toBe(2);
    expect(await counted({ generator: "windowed", failedAfter: at(later) })).toBe(0);
  });
});

describe("refusals of an approval, each writing nothing", () => {
  it("409 BATCH_EMPTY when nothing can be retried", async () => {
    const filter = { errorCode: "NOTHING_FAILED_LIKE_THIS" };
    const shown = await preview(filter);
    expect(shown.body).toMatchObject({ count: 0, jobIds: [] });
    const before = await written();
    const response = await approve({ filter, previewToken: shown.body.previewToken });
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: "BATCH_EMPTY", details: { count: 0 } });
    expect(await written()).toEqual(before);
  });

  it("409 BATCH_TOO_LARGE past RETRY_BATCH_MAX, at preview and at approval", async () => {
    await usePolicy(t, { RETRY_BATCH_MAX: "5" });
    const capped = testApp(t.db, { RETRY_BATCH_MAX: "5" });
    await failedJobs(t.db, 6, { code: "TOO_MANY" });
    const filter = { errorCode: "TOO_MANY" };
    const refused = await preview(filter, capped);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: "BATCH_TOO_LARGE",
      details: { count: 6, max: 5 },
    });
    // A token previewed under a larger maximum, approved after the policy shrank.
    await setPolicy(t, { retryBatchMax: 1000 });
    const token = (await preview(filter)).body.previewToken;
    await setPolicy(t, { retryBatchMax: 5 });
    const before = await written();
    const response = await approve({ filter, previewToken: token }, capped);
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: "BATCH_TOO_LARGE", details: { count: 6 } });
    expect(await written()).toEqual(before);
  });

  it("400 for a filter that is not one", async () => {
    const token = `${"9".repeat(10)}.${"0".repeat(64)}`;
    const filters: JsonBody[] = [
      { generator: "demo", status: "FAILED" },
      { failedAfter: "yesterday" },
      { failedAfter: "2025-01-01" },
      { failedAfter: "2025-01-01T10:00:00" },
      { failedAfter: "2025-02-30T00:00:00Z" },
      { failedAfter: "0000-06-01T00:00:00Z" },
      { failedAfter: "2025-01-02T00:00:00Z", failedBefore: "2025-01-01T00:00:00Z" },
      { failedAfter: "2025-01-01T00:00:00Z", failedBefore: "2025-01-01T00:00:00Z" },
      { failedAfter: "2025-01-01T01:00:00+01:00", failedBefore: "2025-01-01T00:00:00Z" },
      { generator: "demo\u0000" },
      { errorCode: "DEMO\u0000FAILURE" },
      { errorCode: "a space" },
      { generator: "Demo" },
      { generator: 7 },
      { failedBefore: 1735689600000 },
      null,
      [],
      "demo",
    ];
    const before = await written();
    for (const filter of filters) {
      const shown = await preview(filter);
      expect(shown.status, JSON.stringify(filter)).toBe(400);
      expect(shown.body.error.code).toBe("VALIDATION_FAILED");
      const approval = await approve({ filter, previewToken: token });
      expect(approval.status, JSON.stringify(filter)).toBe(400);
    }
    for (const body of [
      {},
      { filter: {}, extra: true },
      { filter: {}, previewToken: "not-a-token" },
      { filter: {}, previewToken: token, reasonCode: "BECAUSE" },
      { filter: {}, previewToken: token, reasonText: "   " },
      { filter: {}, previewToken: token, expiresInHours: 0 },
      { filter: {}, previewToken: token, expiresInHours: 721 },
      { filter: {}, previewToken: token, expiresInHours: 1.5 },
    ]) {
      const response = await approve(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe("VALIDATION_FAILED");
    }
    expect(
      (await call(app, "POST", `${BATCHES}/preview`, { token: tokens.admin, body: {} })).status,
    ).toBe(400);
    expect(await written()).toEqual(before);
  });
});

describe("executing and rejecting", () => {
  it("rejects every pending intent with one reason; a later execute creates nothing", async () => {
    const jobs = await failedJobs(t.db, 3, { code: "TO_REJECT" });
    const batch = await batchOf({ errorCode: "TO_REJECT" });
    const rejected = await call(app, "POST", `${BATCHES}/${batch.id}/reject`, {
      token: tokens.secondAdmin,
      body: { reasonText: "  the input was wrong; resubmit instead  " },
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toEqual({
      batch,
      rejected: 3,
      counts: { pending: 0, consumed: 0, rejected: 3 },
    });
    const detail = await call(app, "GET", `${BATCHES}/${batch.id}`, { token: tokens.viewer });
    for (const intent of detail.body.intents) {
      expect(intent).toMatchObject({
        status: "REJECTED",
        rejectedBy: tokens.actors.secondAdmin,
        rejectionText: "the input was wrong; resubmit instead",
      });
    }
    const executed = await execute(batch.id);
    expect(executed.body).toMatchObject({
      created: 0,
      skipped: { consumed: 0, rejected: 3, expired: 0 },
    });
    const again = await call(app, "POST", `${BATCHES}/${batch.id}/reject`, {
      token: tokens.admin,
      body: { reasonText: "again" },
    });
    expect(again.body).toMatchObject({ rejected: 0, counts: { rejected: 3 } });
    expect(
      await count("SELECT count(*) FROM regeneration_jobs WHERE retry_of_job_id = ANY($1)", [
        jobs.map((j) => j.id),
      ]),
    ).toBe(0);
    // Rejected by a person, they are decided: a batch leaves them out and says so (one at a
    // time, an admin may still approve a retry).
    expect((await preview({ errorCode: "TO_REJECT" })).body).toMatchObject({
      count: 0,
      excluded: { rejected: 3 },
    });
    for (const body of [
      {},
      { reasonText: " " },
      { reasonText: "x".repeat(2001) },
      { reasonText: "ok", more: 1 },
    ]) {
      const refused = await call(app, "POST", `${BATCHES}/${batch.id}/reject`, {
        token: tokens.admin,
        body,
      });
      expect(refused.status, JSON.stringify(body)).toBe(400);
    }
  });

  it("skips intents that expired, and those executed one by one meanwhile", async () => {
    const [a, b, c] = await failedJobs(t.db, 3, { code: "PARTLY_EXPIRED" });
    if (!a || !b || !c) throw new Error("three jobs");
    // A batch approved two hours ago whose intent for `a` expired an hour ago, as psql would write it.
    const batchId = `psqlbatch${Math.random().toString(36).slice(2, 10)}`;
    await t.raw.query("BEGIN");
    await t.raw.query(
      `INSERT INTO retry_batches (id, filter, reason_code, reason_text, approved_by, approved_at, created_at, job_count)
       VALUES ($1, '{"errorCode":"PARTLY_EXPIRED"}', 'OTHER', 'long ago', 'psql', now() - interval '2 hours', now() - interval '2 hours', 3)`,
      [batchId],
    );
    await t.raw.query(
      `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by, approved_at, created_at, expires_at, batch_id)
       SELECT $1 || n, job, 'OTHER', 'long ago', 'psql', now() - interval '2 hours', now() - interval '2 hours',
              CASE WHEN n = 1 THEN now() - interval '1 hour' ELSE now() + interval '1 hour' END, $1
       FROM unnest($2::text[]) WITH ORDINALITY AS x(job, n)`,
      [batchId, [a.id, b.id, c.id]],
    );
    await t.raw.query(
      `INSERT INTO audit_events (type, actor, subject_type, subject_id)
       SELECT 'RETRY_INTENT_CREATED', 'psql', 'retry_intent', $1 || n FROM generate_series(1, 3) n
       UNION ALL SELECT 'RETRY_BATCH_CREATED', 'psql', 'retry_batch', $1`,
      [batchId],
    );
    await t.raw.query("COMMIT");
    const single = await call(app, "POST", `/api/admin/retry-intents/${batchId}2/execute`, {
      token: tokens.admin,
    });
    expect(single.status).toBe(201);
    expect(single.body.intent.batchId).toBe(batchId);

    const executed = await execute(batchId);
    expect(executed.status).toBe(200);
    expect(executed.body).toMatchObject({
      created: 1,
      skipped: { consumed: 1, rejected: 0, expired: 1 },
      counts: { pending: 1, consumed: 2, rejected: 0 },
    });
    const detail = await call(app, "GET", `${BATCHES}/${batchId}`, { token: tokens.viewer });
    const bySource = Object.fromEntries(
      detail.body.intents.map((i: JsonBody) => [i.sourceJobId, i]),
    );
    expect(bySource[a.id]).toMatchObject({ status: "PENDING", resultingJobId: null });
    expect(bySource[b.id].resultingJobId).toBe(single.body.job.id);
    expect(bySource[c.id].resultingJobId).toEqual(expect.any(String));
  });

  it("with REQUIRE_DISTINCT_EXECUTOR, refuses the approver (403 FOUR_EYES_REQUIRED) and lets another admin execute", async () => {
    await usePolicy(t, { REQUIRE_DISTINCT_EXECUTOR: "true" });
    const strict = testApp(t.db, { REQUIRE_DISTINCT_EXECUTOR: "true" });
    await failedJobs(t.db, 2, { code: "FOUR_EYES" });
    const batch = await batchOf({ errorCode: "FOUR_EYES" }, strict);
    const before = await written();
    const self = await execute(batch.id, strict, tokens.admin);
    expect(self.status).toBe(403);
    expect(self.body.error).toMatchObject({
      code: "FOUR_EYES_REQUIRED",
      details: { batchId: batch.id, approvedBy: tokens.actors.admin },
    });
    expect(await written()).toEqual(before);
    const other = await execute(batch.id, strict, tokens.secondAdmin);
    expect(other.status).toBe(200);
    expect(other.body.created).toBe(2);
  });

  it("stamps each intent's expiry from expiresInHours", async () => {
    await failedJobs(t.db, 1, { code: "SHORT_LIVED" });
    const batch = await batchOf({ errorCode: "SHORT_LIVED" }, app, { expiresInHours: 2 });
    const detail = await call(app, "GET", `${BATCHES}/${batch.id}`, { token: tokens.viewer });
    const [intent] = detail.body.intents;
    const hours = (Date.parse(intent.expiresAt) - Date.parse(intent.approvedAt)) / 3_600_000;
    expect(hours).toBeCloseTo(2, 2);
  });
});

describe("approving concurrently and again", () => {
  it("replays an approval sent again with its Idempotency-Key, creating one batch", async () => {
    await failedJobs(t.db, 4, { code: "REPLAYED" });
    const filter = { errorCode: "REPLAYED" };
    const { previewToken } = (await preview(filter)).body;
    const body = { filter, previewToken };
    const first = await approve(body, app, { key: "incident-42" });
    expect(first.status).toBe(201);
    const before = await written();
    const second = await approve(body, app, { key: "incident-42" });
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.body).toEqual(first.body);
    expect(await written()).toEqual(before);
    const reused = await approve({ ...body, reasonText: "another reason" }, app, {
      key: "incident-42",
    });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    // Without the key, the same approval finds every job already waiting.
    const third = await approve(body);
    expect(third.status).toBe(409);
    expect(third.body.error.code).toBe("BATCH_EMPTY");
  });

  it("of concurrent approvals of one preview, one wins and the others are refused", async () => {
    await failedJobs(t.db, 30, { code: "RACED" });
    const filter = { errorCode: "RACED" };
    const { previewToken } = (await preview(filter)).body;
    const responses = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        approve({ filter, previewToken }, app, {
          token: i % 2 ? tokens.admin : tokens.secondAdmin,
        }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses, JSON.stringify(responses.map((r) => r.body))).toEqual([201, 409, 409, 409]);
    for (const r of responses.filter((r) => r.status === 409)) {
      expect(r.body.error.code).toBe("BATCH_EMPTY");
    }
    expect(
      await count(
        "SELECT count(*) FROM retry_intents i JOIN regeneration_jobs j ON j.id = i.source_job_id WHERE j.error->>'code' = 'RACED'",
      ),
    ).toBe(30);
  });
});

describe("reading batches", () => {
  it("lists batches newest first, page by page", async () => {
    const all = await call(app, "GET", `${BATCHES}?limit=200`, { token: tokens.viewer });
    expect(all.status).toBe(200);
    expect(all.body.items.length).toBeGreaterThanOrEqual(5);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: JsonBody = await call(
        app,
        "GET",
        `${BATCHES}?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { token: tokens.viewer },
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((b: JsonBody) => b.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.items.map((b: JsonBody) => b.id));
    const { rows } = await t.raw.query(
      "SELECT id FROM retry_batches ORDER BY created_at DESC, id DESC",
    );
    expect(seen).toEqual(rows.map((r: { id: string }) => r.id));
    for (const query of [
      "limit=0",
      "limit=201",
      "cursor=!!!",
      "cursor=bm90LWEtYmF0Y2g",
      "status=PENDING",
    ]) {
      const refused = await call(app, "GET", `${BATCHES}?${query}`, { token: tokens.viewer });
      expect(refused.status, query).toBe(400);
    }
  });

  it("404 BATCH_NOT_FOUND for an unknown or malformed id, on every batch route", async () => {
    for (const id of ["zzzzzzzzzzzzzzzzzzzzzzzz", "NOT-AN-ID", "%00", "a".repeat(300)]) {
      for (const [method, suffix, body] of [
        ["GET", "", undefined],
        ["POST", "/execute", undefined],
        ["POST", "/reject", { reasonText: "no" }],
      ] as const) {
        const response = await call(app, method, `${BATCHES}/${id}${suffix}`, {
          token: tokens.admin,
          ...(body ? { body } : {}),
        });
        expect(response.status, `${method} ${id}${suffix}`).toBe(404);
        expect(response.body.error.code).toBe("BATCH_NOT_FOUND");
      }
    }
  });

  it("lets viewers read and refuses them (and submitters) every change, writing nothing", async () => {
    await failedJobs(t.db, 1, { code: "ROLES" });
    const batch = await batchOf({ errorCode: "ROLES" });
    const { previewToken } = (await preview({ errorCode: "ROLES" })).body;
    const before = await written();
    for (const token of [tokens.viewer, tokens.submitter]) {
      for (const [path, body] of [
        [`${BATCHES}/preview`, { filter: {} }],
        [BATCHES, { filter: {}, previewToken, reasonCode: "OTHER", reasonText: "x" }],
        [`${BATCHES}/${batch.id}/execute`, undefined],
        [`${BATCHES}/${batch.id}/reject`, { reasonText: "no" }],
      ] as const) {
        const response = await call(app, "POST", path, { token, ...(body ? { body } : {}) });
        expect(response.status, path).toBe(403);
        expect(response.body.error.code).toBe("FORBIDDEN");
      }
    }
    expect((await call(app, "GET", BATCHES, { token: tokens.submitter })).status).toBe(403);
    expect(
      await count("SELECT count(*) FROM retry_intents WHERE batch_id = $1 AND status = 'PENDING'", [
        batch.id,
      ]),
    ).toBe(1);
    expect(await written()).toEqual(before);
    for (const path of [BATCHES, `${BATCHES}/${batch.id}`]) {
      expect((await call(app, "GET", path, { token: tokens.viewer })).status).toBe(200);
    }
  });

  it("documents the routes, their roles and their refusals in the OpenAPI document", async () => {
    const { body } = await call(app, "GET", "/api/openapi.json");
    const create = body.paths["/api/admin/retry-batches"].post;
    expect(create["x-regent-role"]).toBe("admin");
    expect(create.responses["409"].description).toMatch(/BATCH_PREVIEW_STALE/);
    expect(body.paths["/api/admin/retry-batches"].get["x-regent-role"]).toBe("viewer");
    expect(body.paths["/api/admin/retry-batches/{id}"].get.responses["404"].description).toMatch(
      /BATCH_NOT_FOUND/,
    );
    for (const path of ["preview", "{id}/execute", "{id}/reject"]) {
      expect(body.paths[`/api/admin/retry-batches/${path}`].post["x-regent-role"]).toBe("admin");
    }
    expect(body.components.schemas.RetryBatchFilter.additionalProperties).toBe(false);
    expect(
      body.paths["/api/admin/retry-intents/{id}/execute"].post.responses["409"].description,
    ).toMatch(/INTENT_EXPIRED/);
  });
});

describe("a preview token", () => {
  const filter = { generator: "demo", errorCode: "TOKEN_BOUND" };
  let ids: string[];

  beforeAll(async () => {
    ids = (await failedJobs(t.db, 3, { code: "TOKEN_BOUND" })).map((j) => j.id).sort();
  });

  it("is made with the database's key, which the application's role cannot read", async () => {
    const shown = await preview(filter);
    expect(shown.body.jobIds).toEqual(ids);
    // What a token used to be, and what anyone could compute from the ids: a bare SHA-256.
    const { createHash } = await import("node:crypto");
    const unkeyed = createHash("sha256").update(ids.join("\n")).digest("hex");
    expect(shown.body.previewToken).not.toContain(unkeyed);
    const before = await written();
    for (const previewToken of [unkeyed, `${Math.floor(Date.now() / 1000) + 3600}.${unkeyed}`]) {
      const refused = await approve({ filter, previewToken });
      expect(refused.status).toBe(previewToken === unkeyed ? 400 : 409);
    }
    expect(await written()).toEqual(before);
    const member = await appRoleMember(t);
    await expect(member.raw.query("SELECT preview_key FROM regent_secrets")).rejects.toMatchObject({
      code: "42501",
    });
  });

  it("names its filter and kind: the same jobs under another filter are refused", async () => {
    const shown = await preview(filter);
    const widened = { ...filter, failedAfter: "2000-01-01T00:00:00Z" };
    expect((await preview(widened)).body.jobIds).toEqual(shown.body.jobIds);
    const before = await written();
    const refused = await approve({ filter: widened, previewToken: shown.body.previewToken });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("BATCH_PREVIEW_STALE");
    const asSupersession = await approve({
      kind: "SUPERSEDE",
      filter: { generator: "demo" },
      previewToken: shown.body.previewToken,
      reasonCode: "OTHER",
    });
    expect(asSupersession.status).toBe(409);
    expect(await written()).toEqual(before);
  });

  it("holds for an hour: an expired one is refused with when it expired", async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    // Made by the database itself, as a preview an hour and a minute ago would have made it.
    const { rows } = await t.raw.query(
      "SELECT regent_preview_token($1::jsonb, 'RETRY', $2::text[], $3) AS token",
      [JSON.stringify(filter), ids, past],
    );
    const before = await written();
    const refused = await approve({ filter, previewToken: rows[0].token });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: "BATCH_PREVIEW_STALE",
      details: { count: 3, expiredAt: new Date(past * 1000).toISOString() },
    });
    expect(refused.body.error.message).toContain("expired");
    expect(await written()).toEqual(before);
    // The same set, made for an hour from now, is approved.
    const fresh = await t.raw.query(
      "SELECT regent_preview_token($1::jsonb, 'RETRY', $2::text[], $3) AS token",
      [JSON.stringify(filter), ids, past + 3660],
    );
    expect((await approve({ filter, previewToken: fresh.rows[0].token })).status).toBe(201);
  });
});
