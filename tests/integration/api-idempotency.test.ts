import { beforeAll, describe, expect, it } from "vitest";
import { pruneExpiredRecords } from "../../functions/domain/retention";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { type ApiApp, call, createTokens, type Tokens, testApp } from "../helpers/api";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { failJob } from "../helpers/fixtures";

/** Idempotency-Key: a repeated creation replays the first answer and creates nothing new. */

let t: TestDatabase;
let app: ApiApp;
let tokens: Tokens;

const count = async (table: string, where = "true", params: unknown[] = []) =>
  (await t.raw.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params)).rows[0].n;

function submitWithKey(key: string, body: unknown, token = tokens.submitter) {
  return call(app, "POST", "/api/jobs", { token, body, headers: { "idempotency-key": key } });
}

async function failedJobId(): Promise<string> {
  const r = await call(app, "POST", "/api/jobs", {
    token: tokens.submitter,
    body: { generator: "demo", input: { text: "x" } },
  });
  await failJob(t.db, r.body.job.id);
  return r.body.job.id;
}

beforeAll(async () => {
  t = await freshDatabase({ max: 12 });
  app = testApp(t.db);
  tokens = await createTokens(t.db);
});

describe("POST /api/jobs with Idempotency-Key", () => {
  it("replays the first response for the same key and body, creating one job", async () => {
    const body = { generator: "demo", input: { text: "once", n: [1, 2] } };
    const first = await submitWithKey("order-1", body);
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    // Same content, keys in another order.
    const second = await submitWithKey("order-1", {
      input: { n: [1, 2], text: "once" },
      generator: "demo",
    });
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.body).toEqual(first.body);
    expect(await count("regeneration_jobs", "input->>'text' = 'once'")).toBe(1);
    expect(
      await count("audit_events", "type = 'JOB_CREATED' AND subject_id = $1", [first.body.job.id]),
    ).toBe(1);
  });

  it("replays a response stored by the previous release (the API's JSON itself) as it was", async () => {
    const body = { generator: "demo", input: { text: "stored before the deploy" } };
    const first = await submitWithKey("order-legacy", body);
    expect(first.status).toBe(201);
    // What the release before this one stored with a key: the response, not the rows.
    await t.raw.query("UPDATE idempotency_keys SET response_body = $1 WHERE key = 'order-legacy'", [
      JSON.stringify(first.body),
    ]);
    const replayed = await submitWithKey("order-legacy", body);
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    expect(replayed.body).toEqual(first.body);
  });

  it("refuses the same key with another body: 409 IDEMPOTENCY_KEY_REUSED", async () => {
    await submitWithKey("order-2", { generator: "demo", input: { text: "a" } });
    const reused = await submitWithKey("order-2", { generator: "demo", input: { text: "b" } });
    expect(reused.status).toBe(409);
    expect(reused.body.error).toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      details: { originalMethod: "POST", originalPath: "/api/jobs" },
    });
    expect(await count("regeneration_jobs", "input->>'text' = 'b'")).toBe(0);
  });

  it("scopes keys to the principal", async () => {
    const body = { generator: "demo", input: { text: "shared key" } };
    const mine = await submitWithKey("shared", body, tokens.submitter);
    const theirs = await submitWithKey("shared", body, tokens.otherSubmitter);
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get("idempotent-replayed")).toBeNull();
    expect(theirs.body.job.id).not.toBe(mine.body.job.id);
    expect(theirs.body.job.createdBy).toBe(tokens.actors.otherSubmitter);
  });

  it("creates one job for 12 concurrent twins and replays it to all of them", async () => {
    const body = { generator: "demo", input: { text: "racing twins" } };
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => submitWithKey("twins", body)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(201));
    expect(new Set(responses.map((r) => r.body.job.id)).size).toBe(1);
    expect(responses.filter((r) => r.headers.get("idempotent-replayed") === null)).toHaveLength(1);
    expect(await count("regeneration_jobs", "input->>'text' = 'racing twins'")).toBe(1);
    expect(await count("idempotency_keys", "key = 'twins'")).toBe(1);
  });

  it("refuses a malformed key with 400 and stores nothing", async () => {
    for (const key of ["", " ", "x".repeat(256), "é"]) {
      const response = await submitWithKey(key, { generator: "demo", input: { key } });
      expect(response.status, JSON.stringify(key)).toBe(400);
      expect(response.body.error.details.target).toBe("header");
    }
    expect(await count("regeneration_jobs", "input ? 'key'")).toBe(0);
  });

  it("does not store refusals: the same key may be used once the request is valid", async () => {
    const invalid = await submitWithKey("later", { generator: "Not Valid", input: {} });
    expect(invalid.status).toBe(400);
    expect(await count("idempotency_keys", "key = 'later'")).toBe(0);
    const valid = await submitWithKey("later", { generator: "demo", input: { text: "k" } });
    expect(valid.status).toBe(201);
  });
});

describe("POST /api/admin/retry-intents with Idempotency-Key", () => {
  const create = (
    key: string,
    sourceJobId: string,
    reasonText = "retry it",
    token = tokens.admin,
  ) =>
    call(app, "POST", "/api/admin/retry-intents", {
      token,
      headers: { "idempotency-key": key },
      body: { sourceJobId, reasonCode: "INFRA_ERROR", reasonText },
    });

  it("replays the created intent instead of 409 INTENT_ALREADY_PENDING", async () => {
    const jobId = await failedJobId();
    const first = await create("intent-1", jobId);
    const again = await create("intent-1", jobId);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const withoutKey = await call(app, "POST", "/api/admin/retry-intents", {
      token: tokens.admin,
      body: { sourceJobId: jobId, reasonCode: "INFRA_ERROR", reasonText: "retry it" },
    });
    expect(withoutKey.status).toBe(409);
    expect(withoutKey.body.error.code).toBe("INTENT_ALREADY_PENDING");
  });

  it("refuses a key reused for another job or another path", async () => {
    const jobId = await failedJobId();
    await create("intent-2", jobId);
    const otherJob = await create("intent-2", await failedJobId());
    expect(otherJob.status).toBe(409);
    expect(otherJob.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    const otherPath = await call(app, "POST", "/api/jobs", {
      token: tokens.admin,
      headers: { "idempotency-key": "intent-2" },
      body: { generator: "demo", input: { text: "k" } },
    });
    expect(otherPath.status).toBe(409);
    expect(otherPath.body.error).toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      details: { originalPath: "/api/admin/retry-intents" },
    });
  });

  it("lets 10 concurrent twins record one intent", async () => {
    const jobId = await failedJobId();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => create("intent-race", jobId)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(new Set(responses.map((r) => r.body.intent.id)).size).toBe(1);
    expect(await count("retry_intents", "source_job_id = $1", [jobId])).toBe(1);
  });
});

describe("POST /api/admin/retry-intents/:id/execute with Idempotency-Key", () => {
  it("replays the execution to a client that retries, instead of 409", async () => {
    const jobId = await failedJobId();
    const intent = (
      await call(app, "POST", "/api/admin/retry-intents", {
        token: tokens.admin,
        body: { sourceJobId: jobId, reasonCode: "OTHER", reasonText: "again" },
      })
    ).body.intent;
    const path = `/api/admin/retry-intents/${intent.id}/execute`;
    const headers = { "idempotency-key": "exec-1" };
    const first = await call(app, "POST", path, { token: tokens.admin, headers });
    const again = await call(app, "POST", path, { token: tokens.admin, headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const plain = await call(app, "POST", path, { token: tokens.admin });
    expect(plain.status).toBe(409);
    expect(plain.body.error.details.jobId).toBe(first.body.job.id);
  });
});

describe("an Idempotency-Key expires after 24 hours", () => {
  /** Ages a stored key as if it had been stored `hours` ago. */
  const age = (key: string, hours: number) =>
    t.raw.query(
      "UPDATE idempotency_keys SET created_at = now() - make_interval(hours => $2) WHERE key = $1",
      [key, hours],
    );

  it("does not replay a key stored more than 24 hours ago: the request runs as new and the key is stored afresh", async () => {
    const body = { generator: "demo", input: { text: "a long time ago" } };
    const first = await submitWithKey("old-key", body);
    expect(first.status).toBe(201);
    await age("old-key", 400 * 24);

    const again = await submitWithKey("old-key", body);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    expect(again.body.job.id).not.toBe(first.body.job.id);
    expect(await count("regeneration_jobs", "input->>'text' = 'a long time ago'")).toBe(2);
    // One row for the key, the new one: stored now, answering with the new job.
    const { rows } = await t.raw.query(
      "SELECT response_body, created_at > now() - interval '1 minute' AS fresh FROM idempotency_keys WHERE key = 'old-key'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].fresh).toBe(true);
    expect(rows[0].response_body.job.id).toBe(again.body.job.id);

    const replayed = await submitWithKey("old-key", body);
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    expect(replayed.body).toEqual(again.body);
  });

  it("still replays a key just under 24 hours old", async () => {
    const body = { generator: "demo", input: { text: "yesterday" } };
    const first = await submitWithKey("day-old-key", body);
    await age("day-old-key", 23);
    const again = await submitWithKey("day-old-key", body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    expect(await count("regeneration_jobs", "input->>'text' = 'yesterday'")).toBe(1);
  });

  it("keeps the expired row when the new request is refused, and replaces it when one succeeds", async () => {
    const intent = (key: string, sourceJobId: string) =>
      call(app, "POST", "/api/admin/retry-intents", {
        token: tokens.admin,
        headers: { "idempotency-key": key },
        body: { sourceJobId, reasonCode: "OTHER", reasonText: "late reuse" },
      });
    const first = await intent("reused-late", await failedJobId());
    expect(first.status).toBe(201);
    await age("reused-late", 25);
    // Refused inside the transaction that would store the key afresh: all of it rolls back.
    const pending = await call(app, "POST", "/api/jobs", {
      token: tokens.submitter,
      body: { generator: "demo", input: { text: "not failed" } },
    });
    const refused = await intent("reused-late", pending.body.job.id);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("JOB_NOT_FAILED");
    const stale = "key = 'reused-late' AND created_at < now() - interval '24 hours'";
    expect(await count("idempotency_keys", stale)).toBe(1);

    const other = await intent("reused-late", await failedJobId());
    expect(other.status).toBe(201);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    expect(other.body.intent.id).not.toBe(first.body.intent.id);
    expect(await count("idempotency_keys", stale)).toBe(0);
    expect(await count("idempotency_keys", "key = 'reused-late'")).toBe(1);
  });

  it("lets 8 concurrent twins with an expired key create one job", async () => {
    const body = { generator: "demo", input: { text: "expired twins" } };
    await submitWithKey("expired-twins", body);
    await age("expired-twins", 48);
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => submitWithKey("expired-twins", body)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(new Set(responses.map((r) => r.body.job.id)).size).toBe(1);
    expect(await count("regeneration_jobs", "input->>'text' = 'expired twins'")).toBe(2);
    expect(await count("idempotency_keys", "key = 'expired-twins'")).toBe(1);
  });

  it("is pruned by the worker once older than 24 hours, a bounded number per invocation", async () => {
    for (const key of ["prune-1", "prune-2", "prune-3", "prune-keep"]) {
      await submitWithKey(key, { generator: "demo", input: { text: key } });
    }
    for (const key of ["prune-1", "prune-2", "prune-3"]) await age(key, 30);
    await age("prune-keep", 20);
    expect((await pruneExpiredRecords(t.db, 2)).idempotencyKeys).toBe(2);
    expect(await count("idempotency_keys", "key LIKE 'prune-%'")).toBe(2);
    await runWorkerInvocation(t.db, {
      budgetMs: 1000,
      concurrency: 1,
      batchSize: 1,
      log: () => {},
    });
    expect(
      (await t.raw.query("SELECT key FROM idempotency_keys WHERE key LIKE 'prune-%'")).rows,
    ).toEqual([{ key: "prune-keep" }]);
    expect(await count("idempotency_keys", "created_at <= now() - interval '24 hours'")).toBe(0);
  });
});
