/**
 * Open failures: the FAILED jobs that need a decision. The database keeps what was decided
 * about each failure without a successor (open_failures.decision) as intents are recorded,
 * executed, rejected by a person or expired, in their own transaction; the domain, the API and
 * raw SQL read the same answer; and a retry batch never takes a job whose newest intent a
 * person rejected, which its preview counts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { listJobs } from "../../functions/domain/jobs";
import {
  createRetryBatch,
  previewRetryBatch,
  rejectRetryBatch,
} from "../../functions/domain/retry-batches";
import {
  createRetryIntent,
  expireRetryIntents,
  rejectRetryIntent,
} from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { type ApiApp, call, createTokens, type Tokens, testApp } from "../helpers/api";
import { appRoleMember } from "../helpers/app-role";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import {
  admin,
  completeJob,
  expiredIntent,
  failedJobOf,
  failedJobs,
  secondAdmin,
} from "../helpers/fixtures";
import { checkInvariants } from "../helpers/invariants";

let t: TestDatabase;
let app: ApiApp;
let tokens: Tokens;

beforeAll(async () => {
  t = await freshDatabase();
  app = testApp(t.db);
  tokens = await createTokens(t.db);
});

/** What open_failures says was decided about a job; undefined when it is not a row there. */
async function decisionOf(jobId: string): Promise<string | undefined> {
  const { rows } = await t.raw.query("SELECT decision FROM open_failures WHERE job_id = $1", [
    jobId,
  ]);
  return rows[0]?.decision;
}

/** The ids GET /api/admin/jobs lists for a query. */
async function listed(query: string): Promise<string[]> {
  const res = await call(app, "GET", `/api/admin/jobs?${query}&limit=200`, {
    token: tokens.viewer,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items.map((job: { id: string }) => job.id);
}

/** The ids the domain lists as open failures with an error code. */
async function openInDomain(errorCode: string): Promise<string[]> {
  const page = await listJobs(t.db, { open: true, errorCode, limit: 200 });
  return page.items.map((job) => job.id);
}

/** The preview as raw SQL reads it, for an error code. */
async function previewInSql(errorCode: string) {
  const { rows } = await t.raw.query("SELECT regent_preview_retry_batch($1::jsonb) AS p", [
    JSON.stringify({ errorCode }),
  ]);
  return rows[0].p as { count: number; jobIds: string[]; excluded: Record<string, number> };
}

async function expectInvariants() {
  expect((await checkInvariants(t.raw)).violations).toEqual([]);
}

describe("what needs a decision", () => {
  it("is a failure with no intent; a pending intent takes it out; a retry that completed leaves it behind", async () => {
    const code = "OPEN_RETRIED";
    const job = await failedJobOf(t.db, "demo", code);
    const untouched = await failedJobOf(t.db, "demo", code);
    expect(await decisionOf(job.id)).toBe("open");
    expect(await listed(`open=true&errorCode=${code}`)).toEqual([untouched.id, job.id]);
    expect((await openInDomain(code)).sort()).toEqual([job.id, untouched.id].sort());

    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "the upstream timed out",
    });
    expect(await decisionOf(job.id)).toBe("pending");
    expect(await listed(`open=true&errorCode=${code}`)).toEqual([untouched.id]);
    expect(await listed(`open=false&errorCode=${code}`)).toEqual([job.id]);

    const { job: retry } = await createRetryJobFromIntent(t.db, secondAdmin, intent.id);
    await completeJob(t.db, retry.id);
    // Recovered: no longer a failure without a successor, though it is still FAILED.
    expect(await decisionOf(job.id)).toBeUndefined();
    expect(await listed(`open=true&errorCode=${code}`)).toEqual([untouched.id]);
    expect(await listed(`status=FAILED&errorCode=${code}`)).toEqual([untouched.id, job.id]);
    expect(await openInDomain(code)).toEqual([untouched.id]);
    await expectInvariants();
  });

  it("leaves out a job whose newest intent a person rejected: that was the decision, and no batch takes it", async () => {
    const code = "OPEN_REJECTED";
    const [rejected, other] = (await Promise.all([
      failedJobOf(t.db, "demo", code),
      failedJobOf(t.db, "demo", code),
    ])) as [{ id: string }, { id: string }];
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: rejected.id,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "try once more",
    });
    await rejectRetryIntent(
      t.db,
      secondAdmin,
      intent.id,
      "Document was deleted upstream on purpose",
    );
    expect(await decisionOf(rejected.id)).toBe("rejected");
    expect(await listed(`open=true&errorCode=${code}`)).toEqual([other.id]);
    expect(await openInDomain(code)).toEqual([other.id]);

    // Every reader of a batch's candidates leaves it out and says why.
    const domain = await previewRetryBatch(t.db, { errorCode: code });
    expect(domain).toMatchObject({ count: 1, jobIds: [other.id] });
    expect(domain.excluded).toEqual({ overBudget: 0, pendingIntent: 0, rejected: 1 });
    const api = await call(app, "POST", "/api/admin/retry-batches/preview", {
      token: tokens.admin,
      body: { filter: { errorCode: code } },
    });
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ count: 1, jobIds: [other.id], excluded: { rejected: 1 } });
    expect(await previewInSql(code)).toMatchObject({
      count: 1,
      jobIds: [other.id],
      excluded: { overBudget: 0, pendingIntent: 0, rejected: 1 },
    });

    const batch = await createRetryBatch(t.db, admin, {
      filter: { errorCode: code },
      previewToken: domain.previewToken,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "the endpoint is back",
    });
    const { rows } = await t.raw.query(
      "SELECT source_job_id FROM retry_intents WHERE batch_id = $1",
      [batch.id],
    );
    expect(rows.map((r) => r.source_job_id)).toEqual([other.id]);
    expect(await decisionOf(rejected.id)).toBe("rejected");

    // A person may still decide again, one job at a time; rejecting that decides it again.
    const again = await createRetryIntent(t.db, admin, {
      sourceJobId: rejected.id,
      reasonCode: "OTHER",
      reasonText: "restored upstream after all",
    });
    expect(await decisionOf(rejected.id)).toBe("pending");
    await rejectRetryIntent(t.db, admin, again.id, "restored by mistake, deleted again");
    expect(await decisionOf(rejected.id)).toBe("rejected");
    await expectInvariants();
  });

  it("is a job again when its intent expired: the worker's rejection (system) decided nothing", async () => {
    const { intentId, jobId } = await expiredIntent(t.db);
    expect(await decisionOf(jobId)).toBe("pending");
    expect(await expireRetryIntents(t.db)).toBeGreaterThanOrEqual(1);
    const { rows } = await t.raw.query("SELECT rejected_by FROM retry_intents WHERE id = $1", [
      intentId,
    ]);
    expect(rows[0].rejected_by).toBe("system");
    expect(await decisionOf(jobId)).toBe("open");
    expect(await openInDomain("DEMO_FAILURE")).toContain(jobId);
    expect(await listed("open=true&errorCode=DEMO_FAILURE")).toContain(jobId);
    const preview = await previewRetryBatch(t.db, { errorCode: "DEMO_FAILURE" });
    expect(preview.jobIds).toContain(jobId);
    expect((await previewInSql("DEMO_FAILURE")).jobIds).toContain(jobId);
    await expectInvariants();
  });

  it("follows a batch: each of its jobs pending while approved, rejected when a person rejects the batch", async () => {
    const code = "OPEN_BATCH";
    const jobs = await failedJobs(t.db, 3, { code });
    const preview = await previewRetryBatch(t.db, { errorCode: code });
    const batch = await createRetryBatch(t.db, admin, {
      filter: { errorCode: code },
      previewToken: preview.previewToken,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "a flaky hour",
    });
    for (const job of jobs) expect(await decisionOf(job.id)).toBe("pending");
    expect(await listed(`open=true&errorCode=${code}`)).toEqual([]);
    await rejectRetryBatch(t.db, secondAdmin, batch.id, "the documents were withdrawn");
    for (const job of jobs) expect(await decisionOf(job.id)).toBe("rejected");
    const after = await previewRetryBatch(t.db, { errorCode: code });
    expect(after).toMatchObject({ count: 0, excluded: { rejected: 3, pendingIntent: 0 } });
    expect(await listed(`open=true&errorCode=${code}`)).toEqual([]);
    await expectInvariants();
  });

  it("is decided in the intent's own transaction: a rejection rolled back leaves it pending", async () => {
    const job = await failedJobOf(t.db, "demo", "OPEN_ROLLBACK");
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "maybe",
    });
    await expect(
      t.db.transaction(async (tx) => {
        await rejectRetryIntent(tx, admin, intent.id, "no");
        throw new Error("rolled back on purpose");
      }),
    ).rejects.toThrow("rolled back on purpose");
    expect(await decisionOf(job.id)).toBe("pending");
    await expectInvariants();
  });

  it("cannot be set by the application's role", async () => {
    const job = await failedJobOf(t.db, "demo", "OPEN_GUARDED");
    const member = await appRoleMember(t);
    await expect(
      member.raw.query("UPDATE open_failures SET decision = 'rejected' WHERE job_id = $1", [
        job.id,
      ]),
    ).rejects.toMatchObject({ code: "42501" });
    await expect(
      member.raw.query("UPDATE open_failures SET decision = 'maybe' WHERE job_id = $1", [job.id]),
    ).rejects.toMatchObject({ code: "42501" });
    // Nor by its owner outside the three decisions.
    await expect(
      t.raw.query("UPDATE open_failures SET decision = 'maybe' WHERE job_id = $1", [job.id]),
    ).rejects.toMatchObject({ code: "23514" });
    expect(await decisionOf(job.id)).toBe("open");
  });
});

describe("a history whose decisions were not kept", () => {
  it("is settled by regent_fill_tallies, whether it counts the history or finds it counted", async () => {
    const h = await freshDatabase();
    const fail = (code: string) => failedJobOf(h.db, "demo", code);
    const [open, pending, rejected, expired] = await Promise.all([
      fail("FILL_OPEN"),
      fail("FILL_PENDING"),
      fail("FILL_REJECTED"),
      expiredIntent(h.db),
    ]);
    await createRetryIntent(h.db, admin, {
      sourceJobId: pending.id,
      reasonCode: "OTHER",
      reasonText: "waiting",
    });
    const decided = await createRetryIntent(h.db, admin, {
      sourceJobId: rejected.id,
      reasonCode: "OTHER",
      reasonText: "no",
    });
    await rejectRetryIntent(h.db, secondAdmin, decided.id, "left failed on purpose");
    await expireRetryIntents(h.db);
    const decisions = async () =>
      Object.fromEntries(
        (
          await h.raw.query(
            "SELECT job_id, decision FROM open_failures WHERE job_id = ANY($1::text[])",
            [[open.id, pending.id, rejected.id, expired.jobId]],
          )
        ).rows.map((r) => [r.job_id, r.decision]),
      );
    const expected = {
      [open.id]: "open",
      [pending.id]: "pending",
      [rejected.id]: "rejected",
      [expired.jobId]: "open",
    };
    expect(await decisions()).toEqual(expected);

    // Rows written before the decision was kept all read "open": the next fill settles them.
    await h.raw.query("UPDATE open_failures SET decision = 'open'");
    expect((await checkInvariants(h.raw)).violations.some((v) => v.includes("open_failures"))).toBe(
      true,
    );
    expect((await h.raw.query("SELECT regent_fill_tallies() AS f")).rows[0].f).toBe(false);
    expect(await decisions()).toEqual(expected);
    expect((await checkInvariants(h.raw)).violations).toEqual([]);

    // A history counted from nothing gets its decisions with its rows.
    await h.raw.query("DELETE FROM tallies");
    await h.raw.query("DELETE FROM open_failures");
    expect((await h.raw.query("SELECT regent_fill_tallies() AS f")).rows[0].f).toBe(true);
    expect(await decisions()).toEqual(expected);
    expect((await checkInvariants(h.raw)).violations).toEqual([]);
  });
});

describe("GET /api/admin/jobs filters", () => {
  it("narrows by error code and failure window, and refuses what it cannot read", async () => {
    const code = "API_WINDOW";
    const before = new Date(Date.now() - 1000).toISOString();
    const job = await failedJobOf(t.db, "demo", code);
    const after = new Date(Date.now() + 1000).toISOString();
    const window = `failedAfter=${before}&failedBefore=${after}`;
    expect(await listed(`errorCode=${code}&${window}`)).toEqual([job.id]);
    expect(await listed(`open=true&errorCode=${code}&${window}`)).toEqual([job.id]);
    expect(await listed(`errorCode=${code}&failedAfter=${after}`)).toEqual([]);
    expect(await listed(`errorCode=${code}&failedBefore=${before}`)).toEqual([]);
    // A failure filter keeps FAILED jobs only.
    expect(await listed(`status=PENDING&errorCode=${code}`)).toEqual([]);

    for (const [query, field] of [
      ["open=yes", "open"],
      ["errorCode=not%20a%20code", "errorCode"],
      ["failedAfter=yesterday", "failedAfter"],
      [`failedAfter=${after}&failedBefore=${before}`, "failedBefore"],
    ] as const) {
      const res = await call(app, "GET", `/api/admin/jobs?${query}`, { token: tokens.viewer });
      expect(res.status, query).toBe(400);
      expect(res.body.error.code, query).toBe("VALIDATION_FAILED");
      expect(JSON.stringify(res.body.error), query).toContain(field);
    }
  });
});
