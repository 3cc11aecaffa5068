/**
 * The admin page walked as during an incident: what needs a decision (the default tab) and
 * the filters on it, each count for the filter in force; finding a job, an intent or a batch
 * by the start of its id; the audit log by actor and time; and the retry form, which records
 * only what the admin chose and, refused, comes back at its own address with the refusal
 * beside it, focused. Rendered on the server, read as HTML, against real PostgreSQL.
 */
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { Job } from "../../db/schema";
import { recordAudit } from "../../functions/domain/audit";
import { submitJob } from "../../functions/domain/jobs";
import {
  createRetryIntent,
  listRetryIntentsForJob,
  rejectRetryIntent,
} from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { AdminClient, adminApp, token } from "../helpers/admin";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import {
  admin,
  completeJob,
  failedChain,
  failedJobOf,
  secondAdmin,
  submitter,
} from "../helpers/fixtures";

let t: TestDatabase;
let client: AdminClient;
let alice: Awaited<ReturnType<typeof token>>;

/** The incident: two generators, three error codes, retries, a rejection, a pending intent. */
const incident = {} as {
  timeouts: Job[];
  recovered: Job;
  rejected: Job;
  pending: Job;
  serverErrors: Job[];
  summaries: Job[];
  waiting: Job;
};

beforeAll(async () => {
  t = await freshDatabase();
  alice = await token(t.db, "admin", "alice");
  client = new AdminClient(adminApp({ db: t.db }));
  await client.signIn(alice.secret);

  const fail = (generator: string, code: string) => failedJobOf(t.db, generator, code);
  incident.timeouts = [];
  for (let i = 0; i < 3; i++) incident.timeouts.push(await fail("webhook", "HTTP_TIMEOUT"));
  incident.recovered = await fail("webhook", "HTTP_TIMEOUT");
  incident.rejected = await fail("webhook", "HTTP_TIMEOUT");
  incident.pending = await fail("webhook", "HTTP_TIMEOUT");
  incident.serverErrors = [await fail("webhook", "HTTP_STATUS_503")];
  incident.summaries = [
    await fail("summary", "DEMO_FAILURE"),
    await fail("summary", "DEMO_FAILURE"),
  ];
  incident.waiting = await submitJob(t.db, submitter, {
    generator: "webhook",
    input: { text: "w" },
  });

  const retry = await createRetryIntent(t.db, admin, {
    sourceJobId: incident.recovered.id,
    reasonCode: "TRANSIENT_FAILURE",
    reasonText: "the endpoint is back",
  });
  const { job: retried } = await createRetryJobFromIntent(t.db, secondAdmin, retry.id);
  await completeJob(t.db, retried.id);
  const refused = await createRetryIntent(t.db, admin, {
    sourceJobId: incident.rejected.id,
    reasonCode: "TRANSIENT_FAILURE",
    reasonText: "once more",
  });
  await rejectRetryIntent(
    t.db,
    secondAdmin,
    refused.id,
    "Document was deleted upstream on purpose",
  );
  await createRetryIntent(t.db, admin, {
    sourceJobId: incident.pending.id,
    reasonCode: "TRANSIENT_FAILURE",
    reasonText: "waiting for a second admin",
  });
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

/** Each tab's count as the page shows it, by tab. */
function tabCounts(html: string): Record<string, string> {
  return Object.fromEntries(
    [
      ...html.matchAll(
        /<a class="tab tab-([a-z]+)"[^>]*>[^<]*<span class="count">([^<]*)<\/span>/g,
      ),
    ].map((m) => [m[1], m[2]]),
  );
}

/** The jobs a list page shows, by id. */
const listedIds = (html: string) =>
  [...html.matchAll(/<td[^>]*><a href="\/admin\/jobs\/([a-z0-9]+)" class="id"/g)].map((m) => m[1]);

/** The counts each tab should show for a filter, counted from the rows. */
async function countsFromRows(where: string): Promise<Record<string, string>> {
  const { rows } = await t.raw.query(
    `SELECT count(*) FILTER (WHERE j.status = 'FAILED' AND f.decision = 'open')::int AS open,
            count(*) FILTER (WHERE j.status = 'FAILED')::int AS failed,
            count(*) FILTER (WHERE j.status = 'PENDING')::int AS pending,
            count(*) FILTER (WHERE j.status = 'RUNNING')::int AS running,
            count(*) FILTER (WHERE j.status = 'COMPLETED')::int AS completed,
            count(*)::int AS all
     FROM regeneration_jobs j LEFT JOIN open_failures f ON f.job_id = j.id WHERE ${where}`,
  );
  return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, String(v)]));
}

describe("/admin: what needs a decision", () => {
  it("is the default tab: failures not retried, not waiting on an intent, not rejected by a person", async () => {
    const { res, html } = await client.page("/admin");
    expect(res.status).toBe(200);
    expect(html).toContain("<h1>Needs a decision</h1>");
    const ids = listedIds(html);
    for (const job of [...incident.timeouts, ...incident.serverErrors, ...incident.summaries]) {
      expect(ids).toContain(job.id);
    }
    for (const job of [incident.recovered, incident.rejected, incident.pending, incident.waiting]) {
      expect(ids).not.toContain(job.id);
    }
    expect(tabCounts(html)).toEqual(await countsFromRows("true"));
    expect(tabCounts(html).open).toBe("6");
    expect((await client.page("/admin?open=1")).html).toContain("<h1>Needs a decision</h1>");

    // The failed tab says what became of each failure.
    const failed = await client.page("/admin?status=FAILED&generator=webhook");
    const row = (id: string) =>
      failed.html.slice(failed.html.indexOf(`/admin/jobs/${id}"`)).split("</tr>")[0] ?? "";
    expect(text(row(incident.recovered.id))).toMatch(/retried .* completed/);
    expect(text(row(incident.rejected.id))).toContain("rejected");
    expect(text(row(incident.pending.id))).toContain("intent pending");
    expect(text(row(incident.timeouts[0]?.id ?? ""))).toContain("needs a decision");
  });

  it("counts every tab for the filter in force", async () => {
    const byGenerator = await client.page("/admin?generator=webhook");
    expect(tabCounts(byGenerator.html)).toEqual(await countsFromRows("j.generator = 'webhook'"));
    expect(listedIds(byGenerator.html).sort()).toEqual(
      [...incident.timeouts, ...incident.serverErrors].map((j) => j.id).sort(),
    );
    expect(text(byGenerator.html)).toContain("Counts are for generator webhook.");

    const byCode = await client.page("/admin?errorCode=HTTP_TIMEOUT");
    expect(tabCounts(byCode.html)).toEqual(
      await countsFromRows("j.status = 'FAILED' AND j.error->>'code' = 'HTTP_TIMEOUT'"),
    );
    expect(tabCounts(byCode.html)).toMatchObject({ open: "3", failed: "6", pending: "0" });
    expect(listedIds(byCode.html).sort()).toEqual(incident.timeouts.map((j) => j.id).sort());
    expect(byCode.html).toContain('<option value="HTTP_TIMEOUT" selected="">HTTP_TIMEOUT</option>');
    // The tabs keep the filter.
    expect(byCode.html).toContain('href="/admin?status=FAILED&amp;errorCode=HTTP_TIMEOUT"');

    const failedByCode = await client.page("/admin?status=FAILED&errorCode=HTTP_TIMEOUT");
    expect(listedIds(failedByCode.html)).toHaveLength(6);

    const { rows } = await t.raw.query(
      "SELECT min(finished_at) AS first, max(finished_at) AS last FROM regeneration_jobs WHERE status = 'FAILED'",
    );
    const from = new Date(rows[0].first).toISOString();
    const until = new Date(new Date(rows[0].last).getTime() + 1).toISOString();
    const window = await client.page(
      `/admin?generator=webhook&failedAfter=${from}&failedBefore=${until}`,
    );
    expect(window.res.status).toBe(200);
    expect(tabCounts(window.html)).toEqual(
      await countsFromRows(
        `j.generator = 'webhook' AND j.status = 'FAILED' AND j.finished_at >= '${from}' AND j.finished_at < '${until}'`,
      ),
    );
    const later = await client.page(`/admin?failedAfter=${until}`);
    expect(tabCounts(later.html)).toMatchObject({ open: "0", failed: "0", all: "0" });
    expect(text(later.html)).toContain("Nothing needs a decision");
  });

  it("offers the error codes on record, and carries the whole filter to a batch", async () => {
    const { html } = await client.page("/admin?generator=webhook&errorCode=HTTP_TIMEOUT");
    const select = html.slice(html.indexOf('<select id="errorCode-filter"'));
    const codes = [
      ...(select.split("</select>")[0] ?? "").matchAll(/<option value="([^"]*)"/g),
    ].map((m) => m[1]);
    expect(codes).toEqual(["", "HTTP_STATUS_503", "HTTP_TIMEOUT"]);
    expect(text(html)).toContain("Retry these 3 jobs…");
    expect(html).toContain('<input type="hidden" name="errorCode" value="HTTP_TIMEOUT"/>');
    expect(html).toContain('<input type="hidden" name="generator" value="webhook"/>');
  });

  it("refuses a filter or a tab it cannot read, keeping what was typed, and drops empty fields", async () => {
    const bad = await client.page("/admin?errorCode=not%20a%20code");
    expect(bad.res.status).toBe(400);
    expect(bad.html).toContain("VALIDATION_FAILED");
    expect(bad.html).toContain('<option value="not a code" selected="">');
    expect(bad.html).toMatch(
      /<div id="form-refusal" class="form-refusal" tabindex="-1" autofocus="">/,
    );

    const window = await client.page("/admin?failedAfter=2026-02-30T00:00");
    expect(window.res.status).toBe(400);
    expect(text(window.html)).toContain("RFC 3339 instant");

    const tab = await client.page("/admin?status=BOGUS");
    expect(tab.res.status).toBe(400);
    expect(text(tab.html)).toContain(
      "status must be one of FAILED, PENDING, RUNNING, COMPLETED, all",
    );
    expect((await client.page("/admin?open=1&status=FAILED")).res.status).toBe(400);
    expect((await client.page("/admin?open=yes")).res.status).toBe(400);

    const sent = await client.request(
      "/admin?generator=webhook&errorCode=&failedAfter=&failedBefore=",
    );
    expect(sent.status).toBe(303);
    expect(sent.headers.get("location")).toBe("/admin?generator=webhook");
  });
});

/**
 * A PENDING intent with a chosen id for a new failed job, written as a second client would,
 * with its event in the same transaction: ids are otherwise drawn at random.
 */
async function intentWithId(id: string): Promise<void> {
  const job = await failedJobOf(t.db, "summary", "SEARCHED");
  await t.db.transaction(async (tx) => {
    await tx.execute(sql`INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by)
      VALUES (${id}, ${job.id}, 'OTHER', 'found by its id', ${admin.actor})`);
    await recordAudit(tx, admin, [
      {
        type: "RETRY_INTENT_CREATED",
        subjectType: "retry_intent",
        subjectId: id,
        data: { sourceJobId: job.id },
      },
    ]);
  });
}

describe("/admin?q=: finding by id", () => {
  it("goes straight to the one match, lists several, and says when there is none", async () => {
    const job = incident.timeouts[0] as Job;
    const one = await client.request(`/admin?q=${job.id.slice(0, 12)}`);
    expect(one.status).toBe(303);
    expect(one.headers.get("location")).toBe(`/admin/jobs/${job.id}`);
    const pasted = await client.request(`/admin?q=%20${job.id.toUpperCase()}%20`);
    expect(pasted.headers.get("location")).toBe(`/admin/jobs/${job.id}`);

    // Two intents whose ids share a start.
    const ids = ["qsearch00000000000000001", "qsearch00000000000000002"];
    for (const id of ids) await intentWithId(id);
    const several = await client.page("/admin?q=qsearch");
    expect(several.res.status).toBe(200);
    for (const id of ids) expect(several.html).toContain(`href="/admin/retry-intents/${id}"`);
    expect(text(several.html)).toContain("2 ids start with qsearch");
    const exact = await client.request(`/admin?q=${ids[1]}`);
    expect(exact.headers.get("location")).toBe(`/admin/retry-intents/${ids[1]}`);

    const none = await client.page("/admin?q=zzzzzzzzzzzz");
    expect(none.res.status).toBe(404);
    expect(text(none.html)).toContain(
      "No job, retry intent or retry batch has an id that starts with zzzzzzzzzzzz",
    );
    expect(none.html).toContain('value="zzzzzzzzzzzz"');
  });

  it("asks for at least 6 characters of an id, and letters and digits only", async () => {
    const short = await client.page("/admin?q=abc");
    expect(short.res.status).toBe(400);
    expect(text(short.html)).toContain("Type at least 6 characters of an id (3 given)");
    expect(short.html).toContain('value="abc"');
    const odd = await client.page("/admin?q=abc%25def%3B");
    expect(odd.res.status).toBe(400);
    expect(text(odd.html)).toContain("An id is made of letters and digits only");
  });
});

describe("/admin/audit by actor and time", () => {
  const eventTypes = (html: string) =>
    [...html.matchAll(/<td class="mono nowrap"[^>]*>([A-Z_]+)<\/td>/g)].map((m) => m[1]);
  const actors = (html: string) =>
    [...html.matchAll(/<span class="actor[^"]*" title="([^"]+)">/g)].map((m) => m[1]);

  it("lists one actor's events, named as recorded or as the page shows them", async () => {
    const job = await failedJobOf(t.db, "webhook", "AUDIT_ACTOR");
    const posted = await client.post(
      `/admin/jobs/${job.id}`,
      { kind: "RETRY", reasonCode: "OTHER", reasonText: "audited" },
      { from: `/admin/jobs/${job.id}` },
    );
    expect(posted.status).toBe(303);
    for (const actor of ["alice", alice.actor]) {
      const { res, html } = await client.page(`/admin/audit?actor=${encodeURIComponent(actor)}`);
      expect(res.status).toBe(200);
      expect(eventTypes(html)).toContain("RETRY_INTENT_CREATED");
      expect(new Set(actors(html))).toEqual(new Set([alice.actor]));
    }
    const worker = await client.page("/admin/audit?actor=worker%3Atest");
    expect(eventTypes(worker.html)).toContain("JOB_FAILED");
    expect(eventTypes(worker.html).every((type) => type?.startsWith("JOB_"))).toBe(true);
    expect(new Set(actors(worker.html))).toEqual(new Set(["worker:test"]));
    expect(await client.page("/admin/audit?actor=nobody").then((p) => text(p.html))).toContain(
      "No events match.",
    );
  });

  it("lists the events of a window of time, and refuses a window it cannot read", async () => {
    const { rows } = await t.raw.query(
      "SELECT min(created_at) AS first, max(created_at) AS last FROM audit_events",
    );
    const first = new Date(rows[0].first).toISOString();
    const after = new Date(new Date(rows[0].last).getTime() + 1000).toISOString();
    const all = await client.page(`/admin/audit?from=${first}&to=${after}`);
    expect(eventTypes(all.html).length).toBeGreaterThan(0);
    const later = await client.page(`/admin/audit?from=${after}`);
    expect(eventTypes(later.html)).toEqual([]);
    const earlier = await client.page(`/admin/audit?to=${first}`);
    expect(eventTypes(earlier.html)).toEqual([]);
    // As a `datetime-local` input sends it: read as UTC.
    const local = await client.page(`/admin/audit?to=${after.slice(0, 19)}&actor=worker%3Atest`);
    expect(eventTypes(local.html).length).toBeGreaterThan(0);

    const garbled = await client.page("/admin/audit?from=last%20tuesday&actor=alice");
    expect(garbled.res.status).toBe(400);
    expect(text(garbled.html)).toContain("From must be a date and time in UTC");
    expect(garbled.html).toContain('value="last tuesday"');
    expect(garbled.html).toContain('value="alice"');
    const backwards = await client.page(`/admin/audit?from=${after}&to=${first}`);
    expect(backwards.res.status).toBe(400);
    expect(text(backwards.html)).toContain("To must be later than From");
  });
});

describe("the retry form", () => {
  /** The options of the page's reason code select, and which is selected. */
  const reasonOptions = (html: string) => {
    const select = html.slice(html.indexOf('<select id="reasonCode"')).split("</select>")[0] ?? "";
    return [...select.matchAll(/<option value="([^"]*)"( selected="")?>/g)].map((m) => ({
      value: m[1],
      selected: Boolean(m[2]),
    }));
  };
  const selected = (html: string) => reasonOptions(html).filter((o) => o.selected);

  it("starts with no reason code unless the failure suggests one", async () => {
    const plain = await failedJobOf(t.db, "summary", "DEMO_FAILURE");
    const page = await client.page(`/admin/jobs/${plain.id}`);
    expect(reasonOptions(page.html)[0]).toEqual({ value: "", selected: true });
    expect(selected(page.html)).toEqual([{ value: "", selected: true }]);

    const timeout = incident.timeouts[1] as Job;
    expect(selected((await client.page(`/admin/jobs/${timeout.id}`)).html)).toEqual([
      { value: "TRANSIENT_FAILURE", selected: true },
    ]);

    // Sent without a choice: refused, nothing recorded, and still no choice made for the admin.
    const path = `/admin/jobs/${timeout.id}`;
    const res = await client.post(
      path,
      { kind: "RETRY", reasonCode: "", reasonText: "why not" },
      { from: path },
    );
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(text(html)).toContain(
      "Choose a reason code: it records why the job should be run again.",
    );
    expect(selected(html)).toEqual([{ value: "", selected: true }]);
    expect(html).toContain(">why not</textarea>");
    expect(await listRetryIntentsForJob(t.db, timeout.id)).toEqual([]);
  });

  it("refused, comes back at the form's own address with the refusal beside the form, focused", async () => {
    const job = incident.timeouts[2] as Job;
    const path = `/admin/jobs/${job.id}`;
    const page = await client.page(path);
    expect(page.html).toContain(`<form method="post" action="${path}">`);
    expect(page.html).toContain('<input type="hidden" name="kind" value="RETRY"/>');

    const res = await client.post(
      path,
      { kind: "RETRY", reasonCode: "OTHER", reasonText: "  " },
      { from: path },
    );
    expect(res.status).toBe(400);
    const html = await res.text();
    const form = html.slice(html.indexOf(`<form method="post" action="${path}"`));
    const refusal = form.indexOf(
      '<div id="retry-form-refusal" class="form-refusal" tabindex="-1" autofocus="">',
    );
    expect(refusal).toBeGreaterThan(0);
    expect(refusal).toBeLessThan(form.indexOf("<fieldset"));
    expect(text(form.slice(refusal))).toMatch(/^ VALIDATION_FAILED Write the reason/);
    expect(html.match(/autofocus/g)).toHaveLength(1);
    expect(await listRetryIntentsForJob(t.db, job.id)).toEqual([]);

    const made = await client.post(
      path,
      { kind: "RETRY", reasonCode: "TRANSIENT_FAILURE", reasonText: "recorded from its page" },
      { from: path },
    );
    expect(made.status).toBe(303);
    expect(made.headers.get("location")).toMatch(
      /^\/admin\/retry-intents\/[a-z0-9]+\?notice=intent-created$/,
    );

    const odd = await client.post(
      path,
      { kind: "REPLACE", reasonCode: "OTHER", reasonText: "x" },
      { from: path },
    );
    expect(odd.status).toBe(400);
    expect(text(await odd.text())).toContain("names no kind of intent");
  });

  it("says what the budget override needs in the page's words", async () => {
    const job = await failedChain(t.db, 3, { generator: "summary", code: "OVER_BUDGET" });
    const path = `/admin/jobs/${job.id}`;
    const without = await client.post(
      path,
      { kind: "RETRY", reasonCode: "OTHER", reasonText: "once more" },
      { from: path },
    );
    expect(without.status).toBe(409);
    const spent = text(await without.text());
    expect(spent).toContain(
      'This chain has used its retry budget of 3 retries. To record another attempt anyway, tick "Override the retry budget", choose reason code OTHER',
    );
    expect(spent).not.toContain("overrideBudget");

    const wrongCode = await client.post(
      path,
      {
        kind: "RETRY",
        reasonCode: "TRANSIENT_FAILURE",
        reasonText: "once more",
        overrideBudget: "yes",
      },
      { from: path },
    );
    expect(wrongCode.status).toBe(400);
    const words = text(await wrongCode.text());
    expect(words).toContain(
      "Going past the retry budget is an exception, and an exception is recorded with reason code OTHER",
    );
    expect(words).not.toContain("overrideBudget");
    expect(await listRetryIntentsForJob(t.db, job.id)).toEqual([]);
  });

  it("rejects an intent from its own page, and a refused rejection comes back there, focused", async () => {
    const job = await failedJobOf(t.db, "summary", "REJECT_FORM");
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "maybe",
    });
    const path = `/admin/retry-intents/${intent.id}`;
    const page = await client.page(path);
    expect(page.html).toContain(`<form method="post" action="${path}">`);
    const empty = await client.post(path, { reasonText: "   " }, { from: path });
    expect(empty.status).toBe(400);
    const html = await empty.text();
    const form = html.slice(html.indexOf(`<form method="post" action="${path}">`));
    expect(form.split("</form>")[0]).toContain(
      '<div id="reject-refusal" class="form-refusal" tabindex="-1" autofocus="">',
    );
    expect(form.split("</form>")[0]).toContain("VALIDATION_FAILED");
    const rejected = await client.post(
      path,
      { reasonText: "Document was deleted upstream on purpose" },
      { from: path },
    );
    expect(rejected.status).toBe(303);
    expect(rejected.headers.get("location")).toBe(`${path}?notice=intent-rejected`);
    const { rows } = await t.raw.query("SELECT decision FROM open_failures WHERE job_id = $1", [
      job.id,
    ]);
    expect(rows[0].decision).toBe("rejected");
    // The intent is decided now: a second rejection is told so at the top of the page.
    const again = await client.post(path, { reasonText: "twice" }, { from: path });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("INTENT_NOT_PENDING");
  });

  it("supersedes from the same address, naming its kind", async () => {
    const done = await submitJob(t.db, submitter, { generator: "summary", input: { text: "ok" } });
    await completeJob(t.db, done.id);
    const path = `/admin/jobs/${done.id}`;
    expect((await client.page(path)).html).toContain(
      '<input type="hidden" name="kind" value="SUPERSEDE"/>',
    );
    const refused = await client.post(
      path,
      { kind: "SUPERSEDE", reasonCode: "TRANSIENT_FAILURE", reasonText: "flaky" },
      { from: path },
    );
    expect(refused.status).toBe(400);
    expect(text(await refused.text())).toContain(
      "Superseding a result says what was wrong with it",
    );
    const made = await client.post(
      path,
      { kind: "SUPERSEDE", reasonCode: "IMPROVED_PROMPT", reasonText: "a better prompt" },
      { from: path },
    );
    expect(made.status).toBe(303);
    expect(made.headers.get("location")).toMatch(/\?notice=supersede-intent-created$/);
  });
});
