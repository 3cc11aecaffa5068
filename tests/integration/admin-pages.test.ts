/**
 * The admin pages' content and flows, rendered on the server and read as HTML through
 * `app.request()` against real PostgreSQL: fast, and no browser needed.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { auditTrail } from "../../functions/domain/audit";
import { getJob, submitJob } from "../../functions/domain/jobs";
import {
  createRetryIntent,
  getRetryIntent,
  listRetryIntentsForJob,
} from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { AdminClient, adminApp, csrfOf, token } from "../helpers/admin";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase, usePolicy } from "../helpers/db";
import {
  admin,
  completeJob,
  failedJob,
  failJob,
  secondAdmin,
  submitter,
} from "../helpers/fixtures";

let t: TestDatabase;
let client: AdminClient;
let alice: Awaited<ReturnType<typeof token>>;

beforeAll(async () => {
  t = await freshDatabase();
  alice = await token(t.db, "admin", "alice");
  client = new AdminClient(adminApp({ db: t.db }));
  await client.signIn(alice.secret);
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

async function intentFor(jobId: string, actor = admin) {
  return createRetryIntent(t.db, actor, {
    sourceJobId: jobId,
    reasonCode: "TRANSIENT_FAILURE",
    reasonText: "upstream timed out",
  });
}

describe("/admin", () => {
  it("lists failed jobs first, with counts per status and filters by status and generator", async () => {
    const failedDemo = await failedJob(t.db, { text: "failed demo" });
    await catalogue(t.db, "other");
    const failedOther = await submitJob(t.db, submitter, { generator: "other", input: {} });
    await failJob(t.db, failedOther.id, "OTHER_FAILURE");
    const done = await submitJob(t.db, submitter, { generator: "demo", input: { text: "ok" } });
    await completeJob(t.db, done.id);
    const waiting = await submitJob(t.db, submitter, {
      generator: "demo",
      input: { text: "waiting" },
    });

    const { res, html } = await client.page("/admin?status=FAILED");
    expect(res.status).toBe(200);
    expect(html).toContain("<h1>Failed jobs</h1>");
    expect(html).toContain(failedDemo.id);
    expect(html).toContain(failedOther.id);
    expect(html).not.toContain(done.id);
    expect(html).not.toContain(waiting.id);
    expect(html).toContain("DEMO_FAILURE");
    const counts = await t.raw.query(
      "SELECT status::text, count(*)::int AS n FROM regeneration_jobs GROUP BY status",
    );
    for (const row of counts.rows as { status: string; n: number }[]) {
      const label = row.status.charAt(0) + row.status.slice(1).toLowerCase();
      expect(text(html)).toContain(`${label} ${row.n}`);
    }

    const completed = await client.page("/admin?status=COMPLETED");
    expect(completed.html).toContain(done.id);
    expect(completed.html).not.toContain(failedDemo.id);

    const byGenerator = await client.page("/admin?generator=other");
    expect(byGenerator.html).toContain(failedOther.id);
    expect(byGenerator.html).not.toContain(failedDemo.id);
    expect(byGenerator.html).toContain('<option value="other" selected="">other</option>');

    const everything = await client.page("/admin?status=all");
    for (const id of [failedDemo.id, done.id, waiting.id]) expect(everything.html).toContain(id);
  });

  it("says what happened to each failed job: retried, intent pending, or awaiting a decision", async () => {
    const retried = await failedJob(t.db);
    const retry = await createRetryJobFromIntent(
      t.db,
      secondAdmin,
      (await intentFor(retried.id)).id,
    );
    const pending = await failedJob(t.db);
    const intent = await intentFor(pending.id);
    const open = await failedJob(t.db);
    const { html } = await client.page("/admin?status=FAILED");
    const row = (id: string) =>
      html.slice(html.indexOf(`/admin/jobs/${id}"`)).split("</tr>")[0] ?? "";
    expect(row(retried.id)).toContain(`/admin/jobs/${retry.job.id}`);
    expect(row(retried.id)).toContain("retried");
    expect(row(pending.id)).toContain(`/admin/retry-intents/${intent.id}`);
    expect(row(open.id)).toContain("needs a decision");
  });

  it("shows an invalid cursor as a clear 400 page, not a crash", async () => {
    const { res, html } = await client.page("/admin?cursor=%%%");
    expect(res.status).toBe(400);
    expect(html).toContain("VALIDATION_FAILED");
    expect(html).toContain("cursor is not one this API issued");
  });
});

describe("/admin/jobs/:jobId", () => {
  it("shows metadata, the error, the lineage with links both ways and the output, escaped", async () => {
    const original = await failedJob(t.db, { text: "<script>alert(1)</script>" });
    const first = await createRetryJobFromIntent(
      t.db,
      secondAdmin,
      (await intentFor(original.id)).id,
    );
    await completeJob(t.db, first.job.id, { html: "<img src=x onerror=alert(1)>", n: 42 });

    const { res, html } = await client.page(`/admin/jobs/${first.job.id}`);
    expect(res.status).toBe(200);
    // Up the chain and down it.
    expect(html).toContain(`href="/admin/jobs/${original.id}"`);
    const back = await client.page(`/admin/jobs/${original.id}`);
    expect(back.html).toContain(`href="/admin/jobs/${first.job.id}"`);
    expect(back.html).toContain("DEMO_FAILURE");
    expect(back.html).toContain("failed in a test");
    expect(text(back.html)).toContain("2 jobs in this retry chain");
    expect(html).toContain(`href="/admin/retry-intents/${first.job.retryIntentId}"`);
    expect(text(html)).toContain("Authorised by intent");
    // JSON is shown escaped: neither the input's script nor the output's image becomes markup.
    expect(back.html).not.toContain("<script>alert(1)</script>");
    expect(back.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain('<details class="json" open="">');
    expect(html).toMatch(/<span class="n">42<\/span>/);
    expect(html).not.toMatch(/<(input|textarea)[^>]*name="(input|content|output)"/);
  });

  it("enables the retry form only for a FAILED job without a retry or a pending intent", async () => {
    const open = await failedJob(t.db);
    const openPage = await client.page(`/admin/jobs/${open.id}`);
    expect(openPage.html).toMatch(/<fieldset>\s*<legend>Create a retry intent/);
    expect(openPage.html).toContain('<select id="reasonCode" name="reasonCode" required="">');
    expect(openPage.html).toMatch(/<textarea id="reasonText" name="reasonText" required=""/);
    for (const code of [
      "TRANSIENT_FAILURE",
      "BAD_INPUT",
      "IMPROVED_PROMPT",
      "INFRA_ERROR",
      "OTHER",
    ]) {
      expect(openPage.html).toContain(`<option value="${code}"`);
    }

    const running = await submitJob(t.db, submitter, {
      generator: "demo",
      input: { text: "running" },
    });
    const pending = await failedJob(t.db);
    await intentFor(pending.id);
    const retried = await failedJob(t.db);
    await createRetryJobFromIntent(t.db, secondAdmin, (await intentFor(retried.id)).id);
    const cases: [string, string][] = [
      [running.id, "Only a FAILED job can be retried; this job is PENDING."],
      [pending.id, "A retry intent for this job is pending. Execute or reject it first."],
      [retried.id, "This job was already retried."],
    ];
    for (const [id, reason] of cases) {
      const { html } = await client.page(`/admin/jobs/${id}`);
      expect(html, id).toContain('<fieldset disabled="">');
      expect(html, id).toContain('aria-describedby="retry-disabled-reason"');
      expect(text(html), id).toContain(reason);
    }
  });

  it("answers an unknown job with a 404 page", async () => {
    const { res, html } = await client.page("/admin/jobs/nosuchjob");
    expect(res.status).toBe(404);
    expect(html).toContain("Job not found");
    expect(html).toContain("JOB_NOT_FOUND");
  });
});

describe("creating a retry intent", () => {
  it("creates it with the signed-in admin as approver and audits who, which request and from where", async () => {
    const job = await failedJob(t.db);
    const res = await client.post(
      `/admin/jobs/${job.id}/retry-intents`,
      { reasonCode: "INFRA_ERROR", reasonText: "  worker node was drained  " },
      { from: `/admin/jobs/${job.id}` },
    );
    expect(res.status).toBe(303);
    const [intent] = await listRetryIntentsForJob(t.db, job.id);
    expect(intent).toMatchObject({
      status: "PENDING",
      reasonCode: "INFRA_ERROR",
      reasonText: "worker node was drained",
      approvedBy: alice.actor,
    });
    if (!intent) throw new Error("no intent");
    expect(res.headers.get("location")).toBe(
      `/admin/retry-intents/${intent.id}?notice=intent-created`,
    );
    const [event] = await auditTrail(t.db, intent.id);
    expect(event).toMatchObject({
      type: "RETRY_INTENT_CREATED",
      actor: alice.actor,
      requestId: res.headers.get("x-request-id"),
      userAgent: "admin-test-client",
    });

    const page = await client.page(res.headers.get("location") ?? "");
    expect(text(page.html)).toContain("Retry intent created.");
  });

  it("records the address the runtime vouches for (Cloudflare's header), never x-forwarded-for", async () => {
    const job = await failedJob(t.db);
    const res = await client.request(`/admin/jobs/${job.id}/retry-intents`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "http://localhost",
        "cf-connecting-ip": "198.51.100.4",
        "x-forwarded-for": "203.0.113.9, 10.0.0.1",
      },
      body: new URLSearchParams({
        reasonCode: "OTHER",
        reasonText: "from behind a proxy",
        _csrf: csrfOf((await client.page("/admin")).html),
      }).toString(),
    });
    expect(res.status).toBe(303);
    const [intent] = await listRetryIntentsForJob(t.db, job.id);
    const [event] = await auditTrail(t.db, intent?.id ?? "");
    expect(event?.ip).toBe("198.51.100.4");
  });

  it("shows a refusal on the job page with the text kept, and writes nothing", async () => {
    const job = await failedJob(t.db);
    const empty = await client.post(
      `/admin/jobs/${job.id}/retry-intents`,
      { reasonCode: "OTHER", reasonText: "   " },
      { from: `/admin/jobs/${job.id}` },
    );
    expect(empty.status).toBe(400);
    const html = await empty.text();
    expect(html).toContain('role="alert"');
    expect(html).toContain("VALIDATION_FAILED");
    expect(html).toContain("Write the reason, up to 2000 characters");
    expect(await listRetryIntentsForJob(t.db, job.id)).toEqual([]);

    await intentFor(job.id);
    const twice = await client.post(
      `/admin/jobs/${job.id}/retry-intents`,
      { reasonCode: "BAD_INPUT", reasonText: "a second opinion" },
      { from: `/admin/jobs/${job.id}` },
    );
    expect(twice.status).toBe(409);
    const twiceHtml = await twice.text();
    expect(twiceHtml).toContain("INTENT_ALREADY_PENDING");
    expect(twiceHtml).toContain("a second opinion");
    expect(twiceHtml).toContain('<option value="BAD_INPUT" selected="">');
    expect(await listRetryIntentsForJob(t.db, job.id)).toHaveLength(1);
  });
});

describe("/admin/retry-intents/:id", () => {
  it("shows metadata, the source job link, the full JSON and the audit trail", async () => {
    const job = await failedJob(t.db);
    const intent = await intentFor(job.id);
    const { res, html } = await client.page(`/admin/retry-intents/${intent.id}`);
    expect(res.status).toBe(200);
    expect(html).toContain(`href="/admin/jobs/${job.id}"`);
    expect(html).toContain("TRANSIENT_FAILURE");
    expect(html).toContain("upstream timed out");
    expect(html).toContain(admin.actor);
    expect(html).toContain("RETRY_INTENT_CREATED");
    expect(html).toContain('<span class="k">&quot;approvedBy&quot;</span>');
    expect(html).toContain(`href="/admin/retry-intents/${intent.id}/execute"`);
    expect(html).toContain(`action="/admin/retry-intents/${intent.id}"`);
  });

  it("lists intents per job and across jobs", async () => {
    const job = await failedJob(t.db);
    const intent = await intentFor(job.id);
    const perJob = await client.page(`/admin/jobs/${job.id}/retry-intents`);
    expect(perJob.res.status).toBe(200);
    expect(perJob.html).toContain(`/admin/retry-intents/${intent.id}`);
    const all = await client.page("/admin/retry-intents");
    expect(all.html).toContain(`/admin/retry-intents/${intent.id}`);
    const rejected = await client.page("/admin/retry-intents?status=REJECTED");
    expect(rejected.html).not.toContain(`/admin/retry-intents/${intent.id}"`);
  });

  it("answers an unknown intent with a 404 page", async () => {
    const { res, html } = await client.page("/admin/retry-intents/nosuchintent");
    expect(res.status).toBe(404);
    expect(html).toContain("INTENT_NOT_FOUND");
  });
});

describe("executing a retry intent", () => {
  it("confirms first, then creates the job, redirects to it and never executes twice", async () => {
    const job = await failedJob(t.db);
    const intent = await intentFor(job.id);

    const confirm = await client.page(`/admin/retry-intents/${intent.id}/execute`);
    expect(confirm.res.status).toBe(200);
    expect(confirm.html).toContain("This will create a new regeneration job.");
    expect(confirm.html).toContain(`action="/admin/retry-intents/${intent.id}/execute"`);
    expect(await getRetryIntent(t.db, intent.id)).toMatchObject({ status: "PENDING" });

    const res = await client.post(
      `/admin/retry-intents/${intent.id}/execute`,
      {},
      { from: `/admin/retry-intents/${intent.id}/execute` },
    );
    expect(res.status).toBe(303);
    const consumed = await getRetryIntent(t.db, intent.id);
    expect(consumed).toMatchObject({ status: "CONSUMED", consumedBy: alice.actor });
    const created = await t.raw.query(
      "SELECT id FROM regeneration_jobs WHERE retry_intent_id = $1",
      [intent.id],
    );
    const newJobId = created.rows[0].id as string;
    expect(res.headers.get("location")).toBe(`/admin/jobs/${newJobId}?notice=retry-created`);
    expect(await getJob(t.db, newJobId)).toMatchObject({
      status: "PENDING",
      retryOfJobId: job.id,
      createdBy: alice.actor,
    });
    const landing = await client.page(res.headers.get("location") ?? "");
    expect(text(landing.html)).toContain("Retry job created from the intent.");

    // Afterwards the intent page has no Execute, and both doors say why.
    const after = await client.page(`/admin/retry-intents/${intent.id}`);
    expect(after.html).not.toContain(`/admin/retry-intents/${intent.id}/execute`);
    expect(text(after.html)).toContain("It created job");
    const again = await client.page(`/admin/retry-intents/${intent.id}/execute`);
    expect(again.res.status).toBe(409);
    expect(again.html).toContain("INTENT_NOT_PENDING");
    const replay = await client.post(
      `/admin/retry-intents/${intent.id}/execute`,
      {},
      { from: "/admin" },
    );
    expect(replay.status).toBe(409);
    const replayHtml = await replay.text();
    expect(replayHtml).toContain("INTENT_NOT_PENDING");
    expect(replayHtml).toContain(`href="/admin/jobs/${newJobId}"`);
    const jobs = await t.raw.query(
      "SELECT count(*)::int AS n FROM regeneration_jobs WHERE retry_of_job_id = $1",
      [job.id],
    );
    expect(jobs.rows[0].n).toBe(1);
  });

  it("keeps to the four-eyes rule when it is on: the approver cannot execute, another admin can", async () => {
    await usePolicy(t, { REQUIRE_DISTINCT_EXECUTOR: "true" });
    const strict = new AdminClient(
      adminApp({ db: t.db, env: { REQUIRE_DISTINCT_EXECUTOR: "true" } }),
    );
    await strict.signIn(alice.secret);
    const job = await failedJob(t.db);
    const intent = await createRetryIntent(
      t.db,
      { actor: alice.actor },
      {
        sourceJobId: job.id,
        reasonCode: "OTHER",
        reasonText: "approved by alice",
      },
    );
    const page = await strict.page(`/admin/retry-intents/${intent.id}`);
    expect(text(page.html)).toContain("another admin has to execute it");
    expect(page.html).not.toContain(`/admin/retry-intents/${intent.id}/execute"`);
    const res = await strict.post(
      `/admin/retry-intents/${intent.id}/execute`,
      {},
      { from: "/admin" },
    );
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("FOUR_EYES_REQUIRED");
    expect((await getRetryIntent(t.db, intent.id)).status).toBe("PENDING");

    const bob = await token(t.db, "admin", "bob");
    const other = new AdminClient(
      adminApp({ db: t.db, env: { REQUIRE_DISTINCT_EXECUTOR: "true" } }),
    );
    await other.signIn(bob.secret);
    const ok = await other.post(
      `/admin/retry-intents/${intent.id}/execute`,
      {},
      { from: "/admin" },
    );
    expect(ok.status).toBe(303);
  });
});

describe("rejecting a retry intent", () => {
  it("needs a reason, then rejects; the intent can no longer be executed", async () => {
    const job = await failedJob(t.db);
    const intent = await intentFor(job.id);
    const from = `/admin/retry-intents/${intent.id}`;
    const empty = await client.post(`${from}/reject`, { reasonText: "" }, { from });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain("VALIDATION_FAILED");
    expect((await getRetryIntent(t.db, intent.id)).status).toBe("PENDING");

    const res = await client.post(
      `${from}/reject`,
      { reasonText: "incident still open" },
      { from },
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${from}?notice=intent-rejected`);
    expect(await getRetryIntent(t.db, intent.id)).toMatchObject({
      status: "REJECTED",
      rejectedBy: alice.actor,
      rejectionText: "incident still open",
    });
    const page = await client.page(from);
    expect(page.html).toContain("incident still open");
    expect(page.html).not.toContain(`${from}/execute`);
    expect(page.html).not.toContain(`${from}/reject`);
    const execute = await client.post(`${from}/execute`, {}, { from: "/admin" });
    expect(execute.status).toBe(409);
  });
});

describe("/admin/audit", () => {
  it("lists events newest first and filters by subject and type", async () => {
    const job = await failedJob(t.db);
    const all = await client.page("/admin/audit");
    expect(all.res.status).toBe(200);
    expect(all.html).toContain("JOB_FAILED");
    const bySubject = await client.page(`/admin/audit?subjectId=${job.id}`);
    const types = [
      ...bySubject.html.matchAll(/<td class="mono nowrap" data-label="Event">([A-Z_]+)<\/td>/g),
    ].map((m) => m[1]);
    expect(types).toEqual(["JOB_FAILED", "JOB_CLAIMED", "JOB_CREATED"]);
    const byType = await client.page(`/admin/audit?subjectId=${job.id}&type=JOB_CLAIMED`);
    expect([
      ...byType.html.matchAll(/<td class="mono nowrap" data-label="Event">([A-Z_]+)<\/td>/g),
    ]).toHaveLength(1);
  });
});

describe("no edit, no delete", () => {
  it("answers PUT, PATCH and DELETE with 404 and offers only the five kinds of POST form", async () => {
    const job = await failedJob(t.db);
    const intent = await intentFor(job.id);
    for (const path of [`/admin/jobs/${job.id}`, `/admin/retry-intents/${intent.id}`]) {
      for (const method of ["PUT", "PATCH", "DELETE"]) {
        const res = await client.request(path, { method, headers: { origin: "http://localhost" } });
        expect(res.status, `${method} ${path}`).toBe(404);
      }
    }
    const allowed = [
      /^\/admin\/logout$/,
      /^\/admin\/jobs\/[a-z0-9]+$/,
      /^\/admin\/jobs\/[a-z0-9]+\/retry-intents$/,
      /^\/admin\/retry-intents\/[a-z0-9]+(\/execute)?$/,
    ];
    for (const path of [
      "/admin",
      `/admin/jobs/${job.id}`,
      `/admin/jobs/${job.id}/retry-intents`,
      "/admin/retry-intents",
      `/admin/retry-intents/${intent.id}`,
      `/admin/retry-intents/${intent.id}/execute`,
      "/admin/audit",
    ]) {
      const { html } = await client.page(path);
      for (const [, action] of html.matchAll(/<form[^>]*method="post"[^>]*action="([^"]+)"/g)) {
        expect(
          allowed.some((re) => re.test(action ?? "")),
          `${path}: ${action}`,
        ).toBe(true);
      }
      expect(text(html), path).not.toMatch(/\b(edit|delete|remove)\b/i);
    }
  });
});
