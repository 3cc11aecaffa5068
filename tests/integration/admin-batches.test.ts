/**
 * Retry batches in the admin page, and the retry budget, intent expiry and reason suggestion on
 * the existing pages: the HTML through `app.request()` against real PostgreSQL, and what each
 * form wrote (or did not write) read back from the database.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { auditTrail } from "../../functions/domain/audit";
import {
  createRetryBatch,
  previewRetryBatch,
  retryBatchDetail,
} from "../../functions/domain/retry-batches";
import {
  createRetryIntent,
  getRetryIntent,
  listRetryIntentsForJob,
} from "../../functions/domain/retry-intents";
import { AdminClient, adminApp, token } from "../helpers/admin";
import { freshDatabase, type TestDatabase, usePolicy } from "../helpers/db";
import { admin, expiredIntent, failedChain, failedJobOf } from "../helpers/fixtures";

let t: TestDatabase;
let client: AdminClient;
let viewer: AdminClient;
let alice: Awaited<ReturnType<typeof token>>;

beforeAll(async () => {
  t = await freshDatabase();
  alice = await token(t.db, "admin", "alice");
  client = new AdminClient(adminApp({ db: t.db }));
  await client.signIn(alice.secret);
  viewer = new AdminClient(adminApp({ db: t.db }));
  await viewer.signIn((await token(t.db, "viewer", "auditor")).secret);
});

/** The text of the page without tags, whitespace folded: what a reader sees. */
function text(html: string): string {
  return html
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");
}

const decodeEntities = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

/** The hidden fields of the form posting to `action`, as a browser would send them. */
function hiddenFields(html: string, action: string): Record<string, string> {
  const start = html.indexOf(`action="${action}"`);
  if (start < 0) throw new Error(`no form posts to ${action}`);
  const form = html.slice(start, html.indexOf("</form>", start));
  const fields: Record<string, string> = {};
  for (const [, name, value] of form.matchAll(
    /<input type="hidden" name="([^"]+)" value="([^"]*)"/g,
  )) {
    if (name) fields[name] = decodeEntities(value ?? "");
  }
  return fields;
}

const count = async (query: string, params: unknown[] = []) =>
  Number((await t.raw.query(query, params)).rows[0].n);

/** Rows of every table a batch page could write, to show that a refused form wrote nothing. */
async function snapshot(): Promise<string> {
  const { rows } = await t.raw.query(`SELECT
    (SELECT count(*) FROM regeneration_jobs) AS jobs, (SELECT count(*) FROM retry_intents) AS intents,
    (SELECT count(*) FROM retry_batches) AS batches,
    (SELECT count(*) FROM retry_intents WHERE status <> 'PENDING') AS decided,
    (SELECT count(*) FROM audit_events WHERE type <> 'AUTH_DENIED') AS events`);
  return JSON.stringify(rows[0]);
}

describe("a retry batch from the failed jobs list to execution", () => {
  it("previews, approves, confirms with the number, executes exactly N jobs once, then none", async () => {
    const generator = "flow";
    const eligible = [];
    for (let i = 0; i < 4; i++) eligible.push(await failedJobOf(t.db, generator, "HTTP_TIMEOUT"));
    const pending = await failedJobOf(t.db, generator, "HTTP_TIMEOUT");
    await createRetryIntent(t.db, admin, {
      sourceJobId: pending.id,
      reasonCode: "OTHER",
      reasonText: "already decided",
    });
    const overBudget = await failedChain(t.db, 3, { generator, code: "HTTP_TIMEOUT" });

    // The failed list offers the batch to admins only, on the failed tab, for its filter.
    const list = await client.page(`/admin?generator=${generator}`);
    expect(text(list.html)).toContain("Retry these 4 jobs…");
    expect(list.html).toContain('action="/admin/retry-batches/new"');
    expect(list.html).toContain(`<input type="hidden" name="generator" value="${generator}"/>`);
    expect((await client.page(`/admin?status=PENDING&generator=${generator}`)).html).not.toContain(
      "/admin/retry-batches/new",
    );
    expect((await viewer.page(`/admin?generator=${generator}`)).html).not.toContain("Retry these");

    // The preview: the count, each job, and what is left out and why.
    const previewPath = `/admin/retry-batches/new?generator=${generator}&errorCode=HTTP_TIMEOUT`;
    const preview = await client.page(previewPath);
    expect(preview.res.status).toBe(200);
    const seen = text(preview.html);
    expect(seen).toContain("4 failed jobs would be retried");
    expect(seen).toContain("1 job over the retry budget");
    expect(seen).toContain("1 job with a retry intent already pending");
    for (const job of eligible) expect(preview.html).toContain(`href="/admin/jobs/${job.id}"`);
    expect(preview.html).not.toContain(`href="/admin/jobs/${pending.id}"`);
    expect(preview.html).not.toContain(`href="/admin/jobs/${overBudget.id}"`);
    // HTTP_TIMEOUT suggests a transient failure, marked as a suggestion.
    expect(preview.html).toMatch(
      /<option value="TRANSIENT_FAILURE" selected="">TRANSIENT_FAILURE \(suggested\) · [^<]*<\/option>/,
    );
    expect(await count("SELECT count(*) AS n FROM retry_batches")).toBe(0);

    const fields = hiddenFields(preview.html, "/admin/retry-batches");
    expect(fields).toMatchObject({ generator, errorCode: "HTTP_TIMEOUT" });
    expect(fields.previewToken).toMatch(/^[0-9]{10}\.[0-9a-f]{64}$/);
    const approved = await client.post(
      "/admin/retry-batches",
      { ...fields, reasonCode: "TRANSIENT_FAILURE", reasonText: "provider timeouts, resolved" },
      { from: previewPath },
    );
    expect(approved.status).toBe(303);
    const location = approved.headers.get("location") ?? "";
    expect(location).toMatch(/^\/admin\/retry-batches\/[a-z0-9]+\?notice=batch-created$/);
    const batchId = location.split("/")[3]?.split("?")[0] ?? "";
    const approvedDetail = await retryBatchDetail(t.db, batchId);
    expect(approvedDetail.batch).toMatchObject({
      approvedBy: alice.actor,
      jobCount: 4,
      reasonCode: "TRANSIENT_FAILURE",
      filter: { generator, errorCode: "HTTP_TIMEOUT" },
    });
    expect(approvedDetail.intents.map((i) => i.sourceJobId).sort()).toEqual(
      eligible.map((j) => j.id).sort(),
    );

    // The batch page: metadata, counts, the intents with their jobs, the trail, Execute.
    const page = await client.page(location);
    expect(page.res.status).toBe(200);
    const pageText = text(page.html);
    expect(pageText).toContain("Retry batch approved.");
    expect(pageText).toContain("provider timeouts, resolved");
    expect(pageText).toContain("alice");
    expect(pageText).toMatch(/PENDING 4 CONSUMED 0 REJECTED 0/);
    expect(page.html).toContain("RETRY_BATCH_CREATED");
    for (const intent of approvedDetail.intents) {
      expect(page.html).toContain(`href="/admin/retry-intents/${intent.id}"`);
      expect(page.html).toContain(`href="/admin/jobs/${intent.sourceJobId}"`);
    }
    expect(page.html).toContain(`href="/admin/retry-batches/${batchId}/execute"`);
    // The reject form posts to the page's own address, where a refusal comes back.
    expect(page.html).toContain(`action="/admin/retry-batches/${batchId}"`);

    // The confirmation names the number and writes nothing.
    const confirm = await client.page(`/admin/retry-batches/${batchId}/execute`);
    expect(confirm.res.status).toBe(200);
    expect(text(confirm.html)).toContain("This will create 4 new regeneration jobs.");
    expect(confirm.html).toContain(`action="/admin/retry-batches/${batchId}/execute"`);
    expect(
      await count(
        "SELECT count(*) AS n FROM regeneration_jobs WHERE retry_intent_id IN (SELECT id FROM retry_intents WHERE batch_id = $1)",
        [batchId],
      ),
    ).toBe(0);

    const executed = await client.post(
      `/admin/retry-batches/${batchId}/execute`,
      {},
      { from: `/admin/retry-batches/${batchId}/execute` },
    );
    expect(executed.status).toBe(303);
    expect(executed.headers.get("location")).toBe(
      `/admin/retry-batches/${batchId}?notice=batch-executed`,
    );
    const createdJobs = `SELECT count(*) AS n FROM regeneration_jobs j
      JOIN retry_intents i ON i.id = j.retry_intent_id WHERE i.batch_id = $1`;
    expect(await count(createdJobs, [batchId])).toBe(4);
    const after = await client.page(executed.headers.get("location") ?? "");
    const afterText = text(after.html);
    expect(afterText).toContain(
      "Batch executed: 4 new regeneration jobs created, 0 skipped (0 already executed, 0 rejected, 0 expired).",
    );
    expect(afterText).toMatch(/PENDING 0 CONSUMED 4 REJECTED 0/);
    expect(after.html).not.toContain(`/admin/retry-batches/${batchId}/execute"`);
    expect(after.html).not.toContain(`action="/admin/retry-batches/${batchId}"`);
    const executedDetail = await retryBatchDetail(t.db, batchId);
    for (const intent of executedDetail.intents) {
      expect(after.html).toContain(`href="/admin/jobs/${intent.resultingJobId}"`);
    }

    // Once more: a second execution creates nothing and says so; the confirmation refuses.
    const again = await client.post(
      `/admin/retry-batches/${batchId}/execute`,
      {},
      { from: `/admin/retry-batches/${batchId}` },
    );
    expect(again.status).toBe(303);
    expect(await count(createdJobs, [batchId])).toBe(4);
    expect(text((await client.page(again.headers.get("location") ?? "")).html)).toContain(
      "Batch executed: 0 new regeneration jobs created, 4 skipped (4 already executed, 0 rejected, 0 expired).",
    );
    const noConfirm = await client.page(`/admin/retry-batches/${batchId}/execute`);
    expect(noConfirm.res.status).toBe(409);
    expect(text(noConfirm.html)).toContain("Nothing to execute");
    expect(noConfirm.html).toContain('role="alert"');

    // The list of batches links it, with its counts.
    const batches = await client.page("/admin/retry-batches");
    expect(batches.html).toContain(`href="/admin/retry-batches/${batchId}"`);
    expect(batches.html).toContain('aria-current="page">Retry batches</a>');
  });

  it("re-renders a stale preview with the new set and a clear message, writing nothing", async () => {
    const generator = "stale";
    await failedJobOf(t.db, generator, "DEMO_FAILURE");
    await failedJobOf(t.db, generator, "DEMO_FAILURE");
    const previewPath = `/admin/retry-batches/new?generator=${generator}`;
    const preview = await client.page(previewPath);
    expect(text(preview.html)).toContain("2 failed jobs would be retried");
    const fields = hiddenFields(preview.html, "/admin/retry-batches");

    const late = await failedJobOf(t.db, generator, "DEMO_FAILURE");
    const before = await snapshot();
    const stale = await client.post(
      "/admin/retry-batches",
      { ...fields, reasonCode: "OTHER", reasonText: "the nightly import failed" },
      { from: previewPath },
    );
    expect(stale.status).toBe(409);
    const html = await stale.text();
    expect(await snapshot()).toBe(before);
    expect(html).toContain('role="alert"');
    expect(html).toContain("BATCH_PREVIEW_STALE");
    expect(text(html)).toContain("now 3");
    expect(text(html)).toContain("3 failed jobs would be retried");
    expect(html).toContain(`href="/admin/jobs/${late.id}"`);
    expect(html).toContain("the nightly import failed");
    expect(html).toContain('<option value="OTHER" selected="">');

    // What is shown now can be approved as it is.
    const fresh = hiddenFields(html, "/admin/retry-batches");
    expect(fresh.previewToken).not.toBe(fields.previewToken);
    const ok = await client.post(
      "/admin/retry-batches",
      { ...fresh, reasonCode: "OTHER", reasonText: "the nightly import failed" },
      { from: previewPath },
    );
    expect(ok.status).toBe(303);
  });

  it("explains an empty set, a set over RETRY_BATCH_MAX and a bad filter, with their statuses", async () => {
    const empty = await client.page("/admin/retry-batches/new?generator=nothing-here");
    expect(empty.res.status).toBe(200);
    expect(text(empty.html)).toContain("0 failed jobs would be retried");
    expect(empty.html).not.toContain('action="/admin/retry-batches"');
    const before = await snapshot();
    const refused = await client.post(
      "/admin/retry-batches",
      {
        generator: "nothing-here",
        previewToken: `${"9".repeat(10)}.${"0".repeat(64)}`,
        reasonCode: "OTHER",
        reasonText: "x",
      },
      { from: "/admin/retry-batches/new" },
    );
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("BATCH_EMPTY");
    expect(await snapshot()).toBe(before);

    for (let i = 0; i < 3; i++) await failedJobOf(t.db, "many", "DEMO_FAILURE");
    await usePolicy(t, { RETRY_BATCH_MAX: "2" });
    const small = new AdminClient(adminApp({ db: t.db, env: { RETRY_BATCH_MAX: "2" } }));
    await small.signIn(alice.secret);
    const tooLarge = await small.page("/admin/retry-batches/new?generator=many");
    expect(tooLarge.res.status).toBe(409);
    expect(tooLarge.html).toContain("BATCH_TOO_LARGE");
    expect(text(tooLarge.html)).toContain("a batch holds at most 2");
    expect(tooLarge.html).toContain('id="filter-errorCode"');
    expect(tooLarge.html).not.toContain('action="/admin/retry-batches"');
    // With more failed jobs on record than a batch holds, the list leaves counting to the preview.
    const list = await small.page("/admin?generator=many");
    expect(text(list.html)).toContain("Retry these jobs…");
    expect(text(list.html)).toContain("The preview counts the jobs a batch can take");

    const beforeBad = await snapshot();
    const bad = await client.page("/admin/retry-batches/new?failedAfter=yesterday");
    expect(bad.res.status).toBe(400);
    expect(bad.html).toContain("VALIDATION_FAILED");
    expect(bad.html).toContain("filter.failedAfter must be an RFC 3339 instant");
    const backwards = await client.page(
      "/admin/retry-batches/new?failedAfter=2030-01-02T00:00&failedBefore=2030-01-01T00:00",
    );
    expect(backwards.res.status).toBe(400);
    expect(backwards.html).toContain("filter.failedBefore must be later than failedAfter");
    const badPost = await client.post(
      "/admin/retry-batches",
      { errorCode: "no spaces allowed", previewToken: "x", reasonCode: "OTHER", reasonText: "x" },
      { from: "/admin/retry-batches/new" },
    );
    expect(badPost.status).toBe(400);
    expect(await badPost.text()).toContain("filter.errorCode is not an error code");
    expect(await snapshot()).toBe(beforeBad);
  });

  it("reads a datetime-local failure window as UTC and keeps it through approval", async () => {
    const job = await failedJobOf(t.db, "window", "DEMO_FAILURE");
    const finished = job.finishedAt ?? new Date();
    const minute = (offset: number) =>
      new Date(finished.getTime() + offset * 60_000).toISOString().slice(0, 16);
    const inside = await client.page(
      `/admin/retry-batches/new?generator=window&failedAfter=${minute(-1)}&failedBefore=${minute(2)}`,
    );
    expect(text(inside.html)).toContain("1 failed job would be retried");
    expect(inside.html).toContain(`value="${minute(-1)}"`);
    expect(hiddenFields(inside.html, "/admin/retry-batches").failedAfter).toBe(
      `${minute(-1)}:00.000Z`,
    );
    const outside = await client.page(
      `/admin/retry-batches/new?generator=window&failedBefore=${minute(-1)}`,
    );
    expect(text(outside.html)).toContain("0 failed jobs would be retried");
  });

  it("rejects a batch with a reason, and keeps to the four-eyes rule when it is on", async () => {
    await failedJobOf(t.db, "reject-me", "DEMO_FAILURE");
    await failedJobOf(t.db, "reject-me", "DEMO_FAILURE");
    const filter = { generator: "reject-me" };
    const batch = await createRetryBatch(
      t.db,
      { actor: alice.actor },
      {
        filter,
        previewToken: (await previewRetryBatch(t.db, filter)).previewToken,
        reasonCode: "OTHER",
        reasonText: "approved by alice",
      },
    );
    const path = `/admin/retry-batches/${batch.id}`;

    await usePolicy(t, { REQUIRE_DISTINCT_EXECUTOR: "true" });
    const strict = new AdminClient(
      adminApp({ db: t.db, env: { REQUIRE_DISTINCT_EXECUTOR: "true" } }),
    );
    await strict.signIn(alice.secret);
    const blocked = await strict.page(path);
    expect(text(blocked.html)).toContain("another admin has to execute it");
    expect(blocked.html).not.toContain(`${path}/execute"`);
    const confirm = await strict.page(`${path}/execute`);
    expect(confirm.res.status).toBe(403);
    expect(confirm.html).toContain("FOUR_EYES_REQUIRED");
    const refused = await strict.post(`${path}/execute`, {}, { from: path });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("FOUR_EYES_REQUIRED");
    expect((await retryBatchDetail(t.db, batch.id)).counts.pending).toBe(2);

    const empty = await client.post(path, { reasonText: "  " }, { from: path });
    expect(empty.status).toBe(400);
    const refusedHtml = await empty.text();
    expect(refusedHtml).toContain("VALIDATION_FAILED");
    // Beside the form it refuses, and focused there.
    expect(refusedHtml).toMatch(
      /id="batch-reject-refusal"[^>]*autofocus|autofocus[^>]*id="batch-reject-refusal"/,
    );
    expect(refusedHtml.indexOf("VALIDATION_FAILED")).toBeGreaterThan(
      refusedHtml.indexOf(`action="${path}"`),
    );
    const rejected = await client.post(
      `${path}/reject`,
      { reasonText: "wrong template; fix upstream first" },
      { from: path },
    );
    expect(rejected.status).toBe(303);
    const after = await client.page(rejected.headers.get("location") ?? "");
    expect(text(after.html)).toContain("Batch rejected: 2 pending intents rejected.");
    expect(text(after.html)).toMatch(/PENDING 0 CONSUMED 0 REJECTED 2/);
    expect(after.html).toContain("RETRY_BATCH_REJECTED");
    expect(after.html).not.toContain(`action="${path}"`);
  });

  it("shows a viewer every batch page without a control that changes anything, and refuses changes with 403", async () => {
    await failedJobOf(t.db, "viewed", "DEMO_FAILURE");
    const filter = { generator: "viewed" };
    const batch = await createRetryBatch(t.db, admin, {
      filter,
      previewToken: (await previewRetryBatch(t.db, filter)).previewToken,
      reasonCode: "OTHER",
      reasonText: "for the viewer",
    });
    const path = `/admin/retry-batches/${batch.id}`;
    for (const page of [
      "/admin/retry-batches",
      "/admin/retry-batches/new?generator=viewed",
      path,
    ]) {
      const { res, html } = await viewer.page(page);
      expect(res.status, page).toBe(200);
      const actions = [...html.matchAll(/<form[^>]*method="post"[^>]*action="([^"]+)"/g)].map(
        (m) => m[1],
      );
      expect(actions, page).toEqual(["/admin/logout"]);
      expect(html, page).not.toContain("<textarea");
      expect(html, page).not.toContain(`${path}/execute"`);
    }
    expect(text((await viewer.page(path)).html)).toContain("waiting for an admin");

    const before = await snapshot();
    expect((await viewer.page(`${path}/execute`)).res.status).toBe(403);
    for (const [action, fields] of [
      [
        "/admin/retry-batches",
        { generator: "viewed", previewToken: "x", reasonCode: "OTHER", reasonText: "x" },
      ],
      [`${path}/execute`, {}],
      [`${path}/reject`, { reasonText: "no" }],
    ] as const) {
      const res = await viewer.post(action, fields, { from: path });
      expect(res.status, action).toBe(403);
      expect(await res.text(), action).toContain("Admins only");
    }
    expect(await snapshot()).toBe(before);
  });

  it.each([
    "/admin/retry-batches/%00",
    "/admin/retry-batches/%FF/execute",
    `/admin/retry-batches/${"x".repeat(3000)}`,
    "/admin/retry-batches?cursor=!!!",
    "/admin/retry-batches/new?generator=%00",
    "/admin/retry-batches/new?errorCode=%C3%28",
    "/admin/retry-batches/new?failedAfter=%00&failedBefore=9999-99-99T99:99",
  ])("GET %s is a page, not a server error", async (path) => {
    const res = await client.request(path);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
  });

  it("answers an unknown batch with a 404 page", async () => {
    const { res, html } = await client.page("/admin/retry-batches/nosuchbatch");
    expect(res.status).toBe(404);
    expect(html).toContain("Retry batch not found");
    expect(html).toContain("BATCH_NOT_FOUND");
  });
});

describe("the retry budget, the suggested reason and intent expiry on the existing pages", () => {
  it("preselects the reason the job's error suggests, marked as a suggestion", async () => {
    const timeout = await failedJobOf(t.db, "demo", "HTTP_TIMEOUT");
    const { html } = await client.page(`/admin/jobs/${timeout.id}`);
    expect(html).toMatch(
      /<option value="TRANSIENT_FAILURE" selected="">TRANSIENT_FAILURE \(suggested\) · [^<]*<\/option>/,
    );
    expect(html.match(/selected=""/g)?.length).toBe(1);

    const unknown = await failedJobOf(t.db, "demo", "DEMO_FAILURE");
    const plain = await client.page(`/admin/jobs/${unknown.id}`);
    expect(plain.html).not.toContain("(suggested)");

    // What the admin chose wins over the suggestion when the form comes back.
    const refused = await client.post(
      `/admin/jobs/${timeout.id}/retry-intents`,
      { reasonCode: "BAD_INPUT", reasonText: "" },
      { from: `/admin/jobs/${timeout.id}` },
    );
    expect(refused.status).toBe(400);
    const again = await refused.text();
    expect(again).toContain('<option value="BAD_INPUT" selected="">');
    expect(again).toContain("(suggested)");
  });

  it("shows the chain's retry usage, and past the budget offers an override that needs OTHER", async () => {
    const first = await failedChain(t.db, 1);
    expect(text((await client.page(`/admin/jobs/${first.id}`)).html)).toContain(
      "Retry budget retry 1 of 3",
    );
    expect((await client.page(`/admin/jobs/${first.id}`)).html).not.toContain("overrideBudget");

    const job = await failedChain(t.db, 3);
    const path = `/admin/jobs/${job.id}`;
    const { html } = await client.page(path);
    expect(text(html)).toContain("retry 3 of 3 · budget used up");
    expect(text(html)).toContain("This chain has used its retry budget of 3 retries");
    expect(html).toMatch(/<input type="checkbox" id="overrideBudget" name="overrideBudget"/);
    expect(html).toContain('<label for="overrideBudget">');

    const without = await client.post(
      `${path}/retry-intents`,
      { reasonCode: "TRANSIENT_FAILURE", reasonText: "one more time" },
      { from: path },
    );
    expect(without.status).toBe(409);
    expect(await without.text()).toContain("RETRY_BUDGET_EXHAUSTED");

    const wrongCode = await client.post(
      `${path}/retry-intents`,
      { reasonCode: "TRANSIENT_FAILURE", reasonText: "one more time", overrideBudget: "yes" },
      { from: path },
    );
    expect(wrongCode.status).toBe(400);
    const wrongHtml = await wrongCode.text();
    expect(wrongHtml).toContain("an exception is recorded with reason code OTHER");
    expect(wrongHtml).toMatch(/name="overrideBudget" value="yes" checked=""/);
    expect(await listRetryIntentsForJob(t.db, job.id)).toEqual([]);

    const ok = await client.post(
      `${path}/retry-intents`,
      {
        reasonCode: "OTHER",
        reasonText: "customer escalation, approved by ops",
        overrideBudget: "yes",
      },
      { from: path },
    );
    expect(ok.status).toBe(303);
    const [intent] = await listRetryIntentsForJob(t.db, job.id);
    expect(intent).toMatchObject({ budgetOverride: true, reasonCode: "OTHER" });
    const intentPage = await client.page(`/admin/retry-intents/${intent?.id}`);
    expect(text(intentPage.html)).toContain("budget override");
    expect(text((await client.page(`/admin/jobs/${job.id}/retry-intents`)).html)).toContain(
      "budget override",
    );
  });

  it("shows when a pending intent expires, and offers no Execute once it has", async () => {
    const job = await failedJobOf(t.db, "demo", "DEMO_FAILURE");
    const fresh = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "soon",
    });
    const live = await client.page(`/admin/retry-intents/${fresh.id}`);
    expect(text(live.html)).toContain("expires in 2 days 23 hours");
    expect(live.html).toContain(`/admin/retry-intents/${fresh.id}/execute"`);
    expect(text((await client.page("/admin/retry-intents")).html)).toContain(
      "expires in 2 days 23 hours",
    );

    const { intentId } = await expiredIntent(t.db);
    const path = `/admin/retry-intents/${intentId}`;
    const expired = await client.page(path);
    expect(expired.res.status).toBe(200);
    const seen = text(expired.html);
    expect(seen).toContain("expired");
    expect(seen).toContain("it can no longer be executed");
    expect(seen).toContain("The worker's sweep will reject it");
    expect(expired.html).not.toContain(`${path}/execute"`);
    expect(expired.html).toContain(`action="${path}"`);
    expect(text((await client.page("/admin/retry-intents")).html)).toMatch(/expired/);

    const confirm = await client.page(`${path}/execute`);
    expect(confirm.res.status).toBe(409);
    expect(confirm.html).toContain("INTENT_EXPIRED");
    const execute = await client.post(`${path}/execute`, {}, { from: path });
    expect(execute.status).toBe(409);
    expect(await execute.text()).toContain("INTENT_EXPIRED");
    expect((await getRetryIntent(t.db, intentId)).status).toBe("PENDING");
  });

  it("shows the batch of an intent that was approved in one", async () => {
    const job = await failedJobOf(t.db, "batched", "DEMO_FAILURE");
    const filter = { generator: "batched" };
    const batch = await createRetryBatch(t.db, admin, {
      filter,
      previewToken: (await previewRetryBatch(t.db, filter)).previewToken,
      reasonCode: "OTHER",
      reasonText: "batched",
    });
    const [intent] = await listRetryIntentsForJob(t.db, job.id);
    const page = await client.page(`/admin/retry-intents/${intent?.id}`);
    expect(page.html).toContain(`href="/admin/retry-batches/${batch.id}"`);
    expect((await client.page(`/admin/jobs/${job.id}`)).html).toContain(
      `href="/admin/retry-batches/${batch.id}"`,
    );
    const events = await auditTrail(t.db, batch.id);
    expect(events.map((e) => e.type)).toEqual(["RETRY_BATCH_CREATED"]);
  });
});

describe("the existing handlers pass the configured retry policy", () => {
  it("holds single intents to RETRY_BUDGET from the configuration", async () => {
    await usePolicy(t, { RETRY_BUDGET: "1" });
    const tight = new AdminClient(adminApp({ db: t.db, env: { RETRY_BUDGET: "1" } }));
    await tight.signIn(alice.secret);
    const job = await failedChain(t.db, 1);
    const path = `/admin/jobs/${job.id}`;
    expect(text((await tight.page(path)).html)).toContain("retry 1 of 1 · budget used up");
    const res = await tight.post(
      `${path}/retry-intents`,
      { reasonCode: "OTHER", reasonText: "again" },
      { from: path },
    );
    expect(res.status).toBe(409);
    expect(await res.text()).toContain("RETRY_BUDGET_EXHAUSTED");
  });
});
