/**
 * Corrected inputs and supersessions on the admin page: the retry form's corrected input, the
 * supersede form of a COMPLETED job, the job page once a result was superseded (its successor,
 * the newest job of the chain, both outputs side by side), and the intent page's input before
 * → after and same-version warning. HTML through `app.request()` against real PostgreSQL; what
 * each form wrote (or did not write) read back with raw SQL; jobs run by the real worker.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { submitJob } from "../../functions/domain/jobs";
import { createRetryIntent, listRetryIntentsForJob } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { AdminClient, adminApp, csrfOf, token } from "../helpers/admin";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, completeJob, failedJob, secondAdmin, submitter } from "../helpers/fixtures";

let t: TestDatabase;
let client: AdminClient;
let viewer: AdminClient;

beforeAll(async () => {
  t = await freshDatabase();
  client = new AdminClient(adminApp({ db: t.db }));
  await client.signIn((await token(t.db, "admin", "alice")).secret);
  viewer = new AdminClient(adminApp({ db: t.db }));
  await viewer.signIn((await token(t.db, "viewer", "auditor")).secret);
});

/**
 * The text of the page without tags, whitespace folded: what a reader sees (inline elements
 * run on with their neighbours, blocks are set apart).
 */
function text(html: string): string {
  return html
    .replace(/<\/?(span|a|strong|code|del|ins)\b[^>]*>/g, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&gt;/g, ">")
    .replace(/&lt;/g, "<")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");
}

/** The HTML of the form that posts to `action`, or undefined when the page has none. */
/** The create-intent form of `kind` on a page (both post to the job's own address). */
function formOf(html: string, kind: "RETRY" | "SUPERSEDE"): string | undefined {
  const marker = html.indexOf(`<input type="hidden" name="kind" value="${kind}"`);
  if (marker < 0) return undefined;
  const start = html.lastIndexOf("<form", marker);
  return html.slice(start, html.indexOf("</form>", marker));
}

/** The text of the marked lines of a comparison: `del` on the old side, `ins` on the new. */
function marked(html: string, tag: "del" | "ins"): string[] {
  return [...html.matchAll(new RegExp(`<${tag} class="diff-line">(.*?)</${tag}>`, "g"))].map((m) =>
    text(m[1] ?? "").trim(),
  );
}

/** Rows of every table a form could write, to show that a refused form wrote nothing. */
async function snapshot(): Promise<string> {
  const { rows } = await t.raw.query(`SELECT
    (SELECT count(*) FROM regeneration_jobs) AS jobs, (SELECT count(*) FROM retry_intents) AS intents,
    (SELECT count(*) FROM regeneration_outputs) AS outputs,
    (SELECT count(*) FROM audit_events WHERE type <> 'AUTH_DENIED') AS events`);
  return JSON.stringify(rows[0]);
}

/** A job's row and its output's, exactly as stored, as text: equal means unchanged byte for byte. */
async function storedJob(id: string): Promise<{ job: string; output: string | null }> {
  const { rows } = await t.raw.query(
    `SELECT j::text AS job, (SELECT o::text FROM regeneration_outputs o WHERE o.job_id = j.id) AS output
     FROM regeneration_jobs j WHERE j.id = $1`,
    [id],
  );
  return rows[0];
}

/** Runs every PENDING job, as the worker's invocation does. */
async function runWorker(): Promise<void> {
  await runWorkerInvocation(t.db, {
    budgetMs: 10_000,
    concurrency: 4,
    batchSize: 50,
    housekeeping: false,
    log: () => {},
  });
}

/** A demo job submitted with `input` and run by the worker: COMPLETED, or FAILED per failAttempts. */
async function ranJob(input: Record<string, unknown>) {
  const job = await submitJob(t.db, submitter, { generator: "demo", input });
  await runWorker();
  return job;
}

/** Where a form of each kind is also accepted (the page's forms post to the job's address). */
const retryPath = (id: string) => `/admin/jobs/${id}/retry-intents`;
const supersedePath = (id: string) => `/admin/jobs/${id}/supersede`;

describe("a corrected input on the retry form", () => {
  it("offers an empty corrected-input box on a FAILED job, saying when it applies", async () => {
    const job = await failedJob(t.db);
    const { html } = await client.page(`/admin/jobs/${job.id}`);
    const form = formOf(html, "RETRY") ?? "";
    expect(form).toMatch(
      /<label for="correctedInput">Corrected input \(JSON\)<\/label>\s*<textarea id="correctedInput" name="correctedInput"[^>]*><\/textarea>/,
    );
    const hint = text(form);
    expect(hint).toContain(
      "A corrected input applies only with reason code BAD_INPUT, IMPROVED_PROMPT or OTHER",
    );
    expect(hint).toContain("must match the input schema of demo (now demo@1)");
    expect(formOf(html, "SUPERSEDE")).toBeUndefined();
  });

  it("records a corrected input with BAD_INPUT; executed, the new job runs it and completes", async () => {
    const job = await ranJob({ text: "hello", failAttempts: 5 });
    const before = await storedJob(job.id);
    expect(before.job).toContain("FAILED");
    const res = await client.post(
      retryPath(job.id),
      {
        reasonCode: "BAD_INPUT",
        reasonText: "failAttempts was set by mistake",
        correctedInput: '{ "text": "hello" }',
      },
      { from: `/admin/jobs/${job.id}` },
    );
    expect(res.status).toBe(303);
    const [intent] = await listRetryIntentsForJob(t.db, job.id);
    if (!intent) throw new Error("no intent");
    expect(intent).toMatchObject({
      kind: "RETRY",
      input: { text: "hello" },
      reasonCode: "BAD_INPUT",
    });
    expect(res.headers.get("location")).toBe(
      `/admin/retry-intents/${intent.id}?notice=intent-created`,
    );

    const page = await client.page(`/admin/retry-intents/${intent.id}`);
    const seen = text(page.html);
    expect(seen).toContain("Kind Retry");
    expect(seen).toContain("Input corrected: before → after below");
    expect(seen).toContain("Input: before → after");
    expect(marked(page.html, "del")).toEqual(['"failAttempts": 5,']);
    expect(marked(page.html, "ins")).toEqual([]);
    expect(seen).toContain("the source job ran under demo@1; a new job runs under demo@1 now");
    // BAD_INPUT says the input was wrong: no warning about the version.
    expect(page.html).not.toContain('id="same-version-warning"');

    const confirm = await client.page(`/admin/retry-intents/${intent.id}/execute`);
    const said = text(confirm.html);
    expect(said).toContain("It will run generator demo at its current version, demo@1,");
    expect(said).toContain("with the corrected input shown below instead of the input of job");
    expect(said).toContain("The failed job stays as it is.");
    expect(marked(confirm.html, "del")).toEqual(['"failAttempts": 5,']);

    const executed = await client.post(
      `/admin/retry-intents/${intent.id}/execute`,
      {},
      { from: `/admin/retry-intents/${intent.id}/execute` },
    );
    expect(executed.status).toBe(303);
    const newJobId = /\/admin\/jobs\/([^?]+)\?notice=retry-created$/.exec(
      executed.headers.get("location") ?? "",
    )?.[1];
    if (!newJobId) throw new Error(`unexpected redirect ${executed.headers.get("location")}`);
    await runWorker();
    const { rows } = await t.raw.query(
      `SELECT j.status, j.input, j.retry_of_job_id, o.content
       FROM regeneration_jobs j LEFT JOIN regeneration_outputs o ON o.job_id = j.id WHERE j.id = $1`,
      [newJobId],
    );
    expect(rows[0]).toEqual({
      status: "COMPLETED",
      input: { text: "hello" },
      retry_of_job_id: job.id,
      content: { text: "HELLO" },
    });
    expect(await storedJob(job.id)).toEqual(before);

    // The failed job's page says what retried it and where the chain is now.
    const old = await client.page(`/admin/jobs/${job.id}`);
    const oldText = text(old.html);
    expect(oldText).toContain(`Retried by job ${newJobId} COMPLETED`);
    expect(oldText).toContain(`The newest job of this chain: ${newJobId} COMPLETED`);
  });

  it("refuses a corrected input with TRANSIENT_FAILURE (400), shows the form as typed, writes nothing", async () => {
    const job = await failedJob(t.db);
    const before = await snapshot();
    const typed = '{"text": "again"}';
    const res = await client.post(
      retryPath(job.id),
      { reasonCode: "TRANSIENT_FAILURE", reasonText: "timed out", correctedInput: typed },
      { from: `/admin/jobs/${job.id}` },
    );
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain("VALIDATION_FAILED");
    expect(text(html)).toContain(
      "A corrected input goes with reason code BAD_INPUT, IMPROVED_PROMPT or OTHER: TRANSIENT_FAILURE says nothing in the job was wrong",
    );
    expect(html).toContain("{&quot;text&quot;: &quot;again&quot;}</textarea>");
    expect(html).toMatch(/<option value="TRANSIENT_FAILURE" selected="">/);
    expect(await snapshot()).toBe(before);
  });

  it("refuses text that is not JSON (400) with a clear message, the form as typed, nothing written", async () => {
    const job = await failedJob(t.db);
    const before = await snapshot();
    const res = await client.post(
      retryPath(job.id),
      { reasonCode: "BAD_INPUT", reasonText: "typo", correctedInput: "{ text: hello }" },
      { from: `/admin/jobs/${job.id}` },
    );
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('<strong class="code">VALIDATION_FAILED</strong>');
    expect(text(html)).toMatch(
      /the corrected input is not valid JSON \(.+\); nothing was recorded/,
    );
    expect(html).toContain(">{ text: hello }</textarea>");
    expect(await snapshot()).toBe(before);
  });

  it("refuses an input the generator's schema does not accept (400), naming where", async () => {
    const job = await failedJob(t.db);
    const before = await snapshot();
    const res = await client.post(
      retryPath(job.id),
      { reasonCode: "BAD_INPUT", reasonText: "fixed", correctedInput: '{"text": 5}' },
      { from: `/admin/jobs/${job.id}` },
    );
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain("VALIDATION_FAILED");
    expect(text(html)).toContain("input does not match the input schema of demo@1");
    const issues = /<ul class="issues">(.*?)<\/ul>/s.exec(html)?.[1] ?? "";
    expect(text(issues).trim()).toBe(
      'input.text: Instance type "number" is invalid. Expected "string".',
    );
    expect(html).toContain("{&quot;text&quot;: 5}</textarea>");
    expect(await snapshot()).toBe(before);
  });
});

describe("the supersede form", () => {
  it("is on a COMPLETED job only, and offers only BAD_INPUT, IMPROVED_PROMPT and OTHER", async () => {
    const done = await ranJob({ text: "offered" });
    const { html } = await client.page(`/admin/jobs/${done.id}`);
    const form = formOf(html, "SUPERSEDE");
    if (!form) throw new Error("no supersede form on a COMPLETED job");
    expect(form).toContain("<legend>Supersede this result</legend>");
    const options = [...form.matchAll(/<option value="([A-Z_]+)"/g)].map((m) => m[1]);
    expect(options).toEqual(["BAD_INPUT", "IMPROVED_PROMPT", "OTHER"]);
    expect(form).toContain('name="correctedInput"');
    expect(form).toContain("_csrf");
    expect(formOf(html, "RETRY")).toBeUndefined();

    const failed = await failedJob(t.db);
    expect((await client.page(`/admin/jobs/${failed.id}`)).html).not.toContain("/supersede");
    const waiting = await submitJob(t.db, submitter, { generator: "demo", input: { text: "w" } });
    expect((await client.page(`/admin/jobs/${waiting.id}`)).html).not.toContain("/supersede");
  });

  it("refuses the reason codes it does not offer (400) and a job that is not COMPLETED (409); nothing written", async () => {
    const done = await completeJob(
      t.db,
      (await submitJob(t.db, submitter, { generator: "demo", input: { text: "x" } })).id,
    );
    const failed = await failedJob(t.db);
    const before = await snapshot();
    for (const reasonCode of ["TRANSIENT_FAILURE", "INFRA_ERROR"]) {
      const res = await client.post(
        supersedePath(done.id),
        { reasonCode, reasonText: "posted anyway", correctedInput: "" },
        { from: `/admin/jobs/${done.id}` },
      );
      expect(res.status, reasonCode).toBe(400);
      const html = await res.text();
      expect(html, reasonCode).toContain("VALIDATION_FAILED");
      expect(text(html), reasonCode).toContain(
        "Superseding a result says what was wrong with it: choose BAD_INPUT, IMPROVED_PROMPT or OTHER",
      );
    }
    const notCompleted = await client.post(
      supersedePath(failed.id),
      { reasonCode: "OTHER", reasonText: "wrong job" },
      { from: `/admin/jobs/${failed.id}` },
    );
    expect(notCompleted.status).toBe(409);
    expect(await notCompleted.text()).toContain("JOB_NOT_COMPLETED");
    expect(await snapshot()).toBe(before);
  });

  it("records a SUPERSEDE; executed, the new job is linked and runs; the old job and output stay byte for byte", async () => {
    const old = await ranJob({ text: "hello wrld" });
    const before = await storedJob(old.id);
    expect(before.output).toContain("HELLO WRLD");

    const res = await client.post(
      supersedePath(old.id),
      {
        reasonCode: "IMPROVED_PROMPT",
        reasonText: "the typo came from the source text, fixed upstream",
        correctedInput: '{"text": "hello world"}',
      },
      { from: `/admin/jobs/${old.id}` },
    );
    expect(res.status).toBe(303);
    const [intent] = await listRetryIntentsForJob(t.db, old.id);
    if (!intent) throw new Error("no intent");
    expect(intent).toMatchObject({
      kind: "SUPERSEDE",
      status: "PENDING",
      input: { text: "hello world" },
      reasonCode: "IMPROVED_PROMPT",
    });
    expect(res.headers.get("location")).toBe(
      `/admin/retry-intents/${intent.id}?notice=supersede-intent-created`,
    );

    // The intent page: the kind, the input before → after, and the same-version warning.
    const page = await client.page(res.headers.get("location") ?? "");
    const seen = text(page.html);
    expect(seen).toContain("Supersede intent created.");
    expect(seen).toContain("Kind Supersede");
    expect(seen).toContain(`Completed job ${old.id} COMPLETED`);
    expect(marked(page.html, "del")).toEqual(['"text": "hello wrld"']);
    expect(marked(page.html, "ins")).toEqual(['"text": "hello world"']);
    expect(page.html).toContain('id="same-version-warning"');
    expect(seen).toContain("the same version that produced this output will run");

    const confirm = await client.page(`/admin/retry-intents/${intent.id}/execute`);
    const said = text(confirm.html);
    expect(said).toContain("Execute supersede intent");
    expect(said).toContain("at its current version, demo@1,");
    expect(said).toContain("The completed job and its output stay as they are");
    expect(said).toContain("the same version that produced this output will run");
    expect(confirm.html).toContain("Confirm: create the new job");

    const executed = await client.post(
      `/admin/retry-intents/${intent.id}/execute`,
      {},
      { from: `/admin/retry-intents/${intent.id}/execute` },
    );
    expect(executed.status).toBe(303);
    const newJobId = /\/admin\/jobs\/([^?]+)\?notice=supersede-created$/.exec(
      executed.headers.get("location") ?? "",
    )?.[1];
    if (!newJobId) throw new Error(`unexpected redirect ${executed.headers.get("location")}`);
    const { rows: created } = await t.raw.query(
      "SELECT retry_of_job_id, retry_intent_id, input, status FROM regeneration_jobs WHERE id = $1",
      [newJobId],
    );
    expect(created[0]).toEqual({
      retry_of_job_id: old.id,
      retry_intent_id: intent.id,
      input: { text: "hello world" },
      status: "PENDING",
    });
    const { rows: events } = await t.raw.query(
      "SELECT type FROM audit_events WHERE subject_id = $1 ORDER BY id",
      [old.id],
    );
    expect(events.map((e) => e.type)).toContain("REGEN_JOB_SUPERSEDED");
    expect(events.map((e) => e.type)).not.toContain("REGEN_JOB_RETRIED");

    // While the new job waits, the old page names it but compares nothing yet.
    const waiting = await client.page(`/admin/jobs/${old.id}`);
    expect(text(waiting.html)).toContain(`Superseded by job ${newJobId} PENDING`);
    expect(waiting.html).not.toContain('id="comparison"');

    await runWorker();

    const oldPage = await client.page(`/admin/jobs/${old.id}`);
    const oldText = text(oldPage.html);
    expect(oldText).toContain(`Superseded by job ${newJobId} COMPLETED`);
    expect(oldText).toContain("This job and its output stay as they were.");
    expect(oldText).toContain(`The newest job of this chain: ${newJobId} COMPLETED`);
    expect(oldText).toContain(`Superseded by ${newJobId} COMPLETED`);
    expect(oldText).toContain("ran under demo@1; a new job runs under demo@1 now");
    // Both outputs side by side, the line that differs marked on each side.
    expect(oldPage.html).toContain('id="comparison"');
    expect(oldText).toContain("This output and the latest");
    expect(marked(oldPage.html, "del")).toEqual(['"text": "HELLO WRLD"']);
    expect(marked(oldPage.html, "ins")).toEqual(['"text": "HELLO WORLD"']);
    // It has its successor: the page says so instead of offering the form again.
    expect(formOf(oldPage.html, "SUPERSEDE")).toBeUndefined();
    expect(oldText).toContain("This result was already superseded.");

    const newPage = await client.page(`/admin/jobs/${newJobId}?notice=supersede-created`);
    expect(text(newPage.html)).toContain("New job created from the supersede intent.");
    expect(text(newPage.html)).toContain(`Supersedes ${old.id}`);
    expect(text(newPage.html)).toContain("Newest of chain this job");

    expect(await storedJob(old.id)).toEqual(before);
  });

  it("warns about the same version on a retry with IMPROVED_PROMPT, not with another reason", async () => {
    const failed = await ranJob({ text: "same version", failAttempts: 3 });
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: failed.id,
      reasonCode: "IMPROVED_PROMPT",
      reasonText: "prompt v8",
    });
    const { html } = await client.page(`/admin/retry-intents/${intent.id}`);
    expect(text(html)).toContain("the same version that failed will run");
    expect(text(html)).toContain("demo@1 is still the current version");
    expect(text((await client.page(`/admin/retry-intents/${intent.id}/execute`)).html)).toContain(
      "the same version that failed will run",
    );
    // Decided, the warning has nothing left to warn about.
    await createRetryJobFromIntent(t.db, secondAdmin, intent.id);
    expect((await client.page(`/admin/retry-intents/${intent.id}`)).html).not.toContain(
      'id="same-version-warning"',
    );
  });
});

describe("viewers and forged forms", () => {
  it("shows viewers the explanation, never a form; their posts are refused (403) and write nothing", async () => {
    const done = await ranJob({ text: "for the viewer" });
    const superseded = await ranJob({ text: "viewed" });
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: superseded.id,
      kind: "SUPERSEDE",
      input: { text: "viewed again" },
      reasonCode: "BAD_INPUT",
      reasonText: "for the viewer",
    });
    for (const path of [
      `/admin/jobs/${done.id}`,
      `/admin/jobs/${superseded.id}`,
      `/admin/retry-intents/${intent.id}`,
    ]) {
      const { res, html } = await viewer.page(path);
      expect(res.status, path).toBe(200);
      const actions = [...html.matchAll(/<form[^>]*method="post"[^>]*action="([^"]+)"/g)].map(
        (m) => m[1],
      );
      expect(actions, path).toEqual(["/admin/logout"]);
      expect(html, path).not.toContain("<textarea");
    }
    const pendingPage = text((await viewer.page(`/admin/jobs/${superseded.id}`)).html);
    expect(pendingPage).toContain("An intent for this job is pending.");
    expect(pendingPage).toContain("You are signed in as a viewer");
    expect(text((await viewer.page(`/admin/retry-intents/${intent.id}`)).html)).toContain(
      "Input: before → after",
    );

    const before = await snapshot();
    const res = await viewer.post(
      supersedePath(done.id),
      { reasonCode: "OTHER", reasonText: "viewer", correctedInput: '{"text":"v"}' },
      { from: `/admin/jobs/${done.id}` },
    );
    expect(res.status).toBe(403);
    expect(await snapshot()).toBe(before);
  });

  it("needs the form token and this origin for the supersede form (403, nothing written)", async () => {
    const done = await ranJob({ text: "csrf" });
    const fields = { reasonCode: "OTHER", reasonText: "forged", correctedInput: "" };
    const before = await snapshot();
    const missing = await client.post(supersedePath(done.id), fields, { csrf: null });
    expect(missing.status).toBe(403);
    const wrong = await client.post(supersedePath(done.id), fields, { csrf: "not-the-token" });
    expect(wrong.status).toBe(403);
    const csrf = csrfOf((await client.page(`/admin/jobs/${done.id}`)).html);
    const crossSite = await client.post(supersedePath(done.id), fields, {
      csrf,
      origin: "https://evil.example",
    });
    expect(crossSite.status).toBe(403);
    expect(await snapshot()).toBe(before);
    // The same form with its token from this origin goes through.
    expect((await client.post(supersedePath(done.id), fields, { csrf })).status).toBe(303);
  });
});
