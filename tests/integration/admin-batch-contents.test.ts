/**
 * What a retry batch would take and what came of it, in the admin page: the preview's table of
 * jobs with their failures and its counts per error code, the error code chosen among those on
 * record, no reason preselected for failures that differ, approval of only the checked jobs
 * (and a choice refused, writing nothing), the failure windows of a filter over the maximum,
 * and the batch page's outcomes, reloading itself only while jobs are unfinished. The HTML
 * through `app.request()` against real PostgreSQL, what each form wrote read back from it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  createRetryBatch,
  executeRetryBatch,
  previewRetryBatch,
  retryBatchDetail,
} from "../../functions/domain/retry-batches";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { BATCH_REFRESH_SECONDS } from "../../web/routes/retry-batches";
import { AdminClient, adminApp, csrfOf, token } from "../helpers/admin";
import { freshDatabase, type TestDatabase, usePolicy } from "../helpers/db";
import { failedAtSecond, yesterdayAt } from "../helpers/failure-times";
import { admin, completeJob, failedJobOf, failJob, secondAdmin } from "../helpers/fixtures";

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

/** The text of the page without tags, whitespace folded: what a reader sees. */
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");

/** The hidden fields of the approval form, as a browser sends them. */
function approvalFields(html: string): [string, string][] {
  const start = html.indexOf('action="/admin/retry-batches"');
  const form = html.slice(start, html.indexOf("</form>", start));
  return [...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)]
    .filter(([, name]) => name !== "_csrf")
    .map(([, name, value]) => [name ?? "", (value ?? "").replace(/&amp;/g, "&")]);
}

/** The job checkboxes of the approval: each job's id and whether it is checked. */
function checkboxes(html: string): { id: string; checked: boolean }[] {
  return [
    ...html.matchAll(
      /<input type="checkbox" form="batch-approve" name="jobIds" value="([^"]+)"( checked="")?/g,
    ),
  ].map(([, id, checked]) => ({ id: id ?? "", checked: Boolean(checked) }));
}

/** Posts a form whose fields may repeat (a checkbox list), as a same-origin page does. */
async function postForm(path: string, fields: [string, string][], from: string) {
  const csrf = csrfOf((await client.page(from)).html);
  return client.request(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: client.origin },
    body: new URLSearchParams([...fields, ["_csrf", csrf]]).toString(),
  });
}

/** Rows of every table an approval writes, to show that a refused form wrote nothing. */
async function written() {
  const { rows } = await t.raw.query(`SELECT
    (SELECT count(*) FROM retry_batches)::int AS batches,
    (SELECT count(*) FROM retry_intents)::int AS intents,
    (SELECT count(*) FROM audit_events WHERE type <> 'AUTH_DENIED')::int AS events`);
  return rows[0];
}

describe("the preview: each job's failure, and the error codes", () => {
  let jobs: Awaited<ReturnType<typeof failedJobOf>>[];

  beforeAll(async () => {
    jobs = [];
    for (const code of ["HTTP_TIMEOUT", "HTTP_TIMEOUT", "INVALID_INPUT"]) {
      jobs.push(await failedJobOf(t.db, "mixed", code));
    }
    await failedJobOf(t.db, "elsewhere", "HTTP_STATUS_502");
  });

  it("lists each job with its error code, message and failure time, and counts per code", async () => {
    const { res, html } = await client.page("/admin/retry-batches/new?generator=mixed");
    expect(res.status).toBe(200);
    for (const job of jobs) {
      const row = html.slice(html.indexOf(`value="${job.id}"`));
      const cells = row.slice(0, row.indexOf("</tr>"));
      expect(cells).toContain(`href="/admin/jobs/${job.id}"`);
      expect(cells).toContain(`data-label="Error code">${job.error?.code}</td>`);
      expect(cells).toContain("failed in a test");
      expect(cells).toContain(`datetime="${job.finishedAt?.toISOString()}"`);
    }
    const seen = text(html);
    expect(seen).toContain("HTTP_TIMEOUT 2");
    expect(seen).toContain("INVALID_INPUT 1");
    expect(seen).toContain("These jobs failed with 2 different error codes");
    expect(html).toContain(
      'href="/admin/retry-batches/new?generator=mixed&amp;errorCode=INVALID_INPUT"',
    );
    // Mixed failures suggest nothing: the empty choice stands, and the select is required.
    expect(html).toMatch(
      /<select id="batch-reasonCode" name="reasonCode" required="">\s*<option value="" selected="">/,
    );
    expect(html).not.toMatch(/<option value="TRANSIENT_FAILURE" selected="">/);
  });

  it("offers the error codes on record as a choice, the filter's own selected", async () => {
    const { html } = await client.page(
      "/admin/retry-batches/new?generator=mixed&errorCode=HTTP_TIMEOUT",
    );
    const start = html.indexOf('<select id="filter-errorCode" name="errorCode">');
    expect(start).toBeGreaterThan(-1);
    const select = html.slice(start, html.indexOf("</select>", start));
    const options = [...select.matchAll(/<option value="([^"]*)"/g)].map(([, v]) => v);
    expect(options).toEqual(["", "HTTP_STATUS_502", "HTTP_TIMEOUT", "INVALID_INPUT"]);
    expect(select).toContain('<option value="HTTP_TIMEOUT" selected="">');
    // One error code: its suggestion is preselected, marked as one.
    expect(html).toMatch(
      /<option value="TRANSIENT_FAILURE" selected="">TRANSIENT_FAILURE \(suggested\)/,
    );
  });

  it("suggests a reason when every job shares one error code, even unfiltered by it", async () => {
    const { html } = await client.page("/admin/retry-batches/new?generator=elsewhere");
    expect(html).toMatch(
      /<option value="TRANSIENT_FAILURE" selected="">TRANSIENT_FAILURE \(suggested\)/,
    );
  });

  it("shows a viewer the jobs without the checkboxes of an approval", async () => {
    const { html } = await viewer.page("/admin/retry-batches/new?generator=mixed");
    expect(html).toContain(`href="/admin/jobs/${jobs[0]?.id}"`);
    expect(checkboxes(html)).toEqual([]);
  });
});

describe("approving only the checked jobs", () => {
  const path = "/admin/retry-batches/new?generator=picked&errorCode=HTTP_STATUS_503";
  let ids: string[];

  beforeAll(async () => {
    ids = [];
    for (let i = 0; i < 4; i++) ids.push((await failedJobOf(t.db, "picked", "HTTP_STATUS_503")).id);
    ids.sort();
  });

  const approve = async (jobIds: string[], reasonText = "the provider recovered at 10:40") => {
    const { html } = await client.page(path);
    return postForm(
      "/admin/retry-batches",
      [
        ...approvalFields(html),
        ["reasonCode", "TRANSIENT_FAILURE"],
        ["reasonText", reasonText],
        ...jobIds.map((id): [string, string] => ["jobIds", id]),
        ["selection", "checked"],
      ],
      path,
    );
  };

  it("lists every job checked, in the approval form", async () => {
    const { html } = await client.page(path);
    expect(checkboxes(html)).toEqual(ids.map((id) => ({ id, checked: true })));
    expect(html).toContain('<form method="post" action="/admin/retry-batches" id="batch-approve">');
    expect(html).toMatch(
      /<button type="submit" class="button button-primary" name="selection" value="checked">/,
    );
    expect(text(html)).toContain("All 4 jobs listed below are checked");
  });

  it("refuses no job checked, and a job the preview does not hold, writing nothing", async () => {
    const stranger = await failedJobOf(t.db, "stranger", "HTTP_STATUS_503");
    const before = await written();
    const none = await approve([], "kept as typed");
    expect(none.status).toBe(400);
    const noneHtml = await none.text();
    expect(text(noneHtml)).toContain("choose at least one job of the preview");
    expect(noneHtml).toContain("kept as typed");
    expect(checkboxes(noneHtml).every((box) => !box.checked)).toBe(true);

    const forged = await approve([ids[0] as string, stranger.id]);
    expect(forged.status).toBe(409);
    const forgedHtml = await forged.text();
    expect(forgedHtml).toContain("BATCH_PREVIEW_STALE");
    expect(text(forgedHtml)).toContain(
      `jobIds names jobs the preview does not hold (${stranger.id})`,
    );
    // The choice comes back as it was made: the job checked, the others not.
    expect(checkboxes(forgedHtml)).toEqual(ids.map((id) => ({ id, checked: id === ids[0] })));
    expect(await written()).toEqual(before);
  });

  it("freezes exactly the checked jobs, and the batch says it holds a choice", async () => {
    const chosen = [ids[1], ids[3]] as string[];
    const approved = await approve(chosen);
    expect(approved.status).toBe(303);
    const batchPath = (approved.headers.get("location") ?? "").split("?")[0] ?? "";
    const detail = await retryBatchDetail(t.db, batchPath.split("/").at(-1) ?? "");
    expect(detail.batch.jobCount).toBe(2);
    expect(detail.intents.map((i) => i.sourceJobId)).toEqual(chosen);
    expect(text((await client.page(batchPath)).html)).toContain(
      "2 of the 4 previewed, as the approver checked them",
    );
    // The two left out are the next preview's.
    expect(checkboxes((await client.page(path)).html).map((box) => box.id)).toEqual([
      ids[0],
      ids[2],
    ]);
  });
});

describe("a filter over RETRY_BATCH_MAX", () => {
  it("shows its failure windows, each a link to a preview that a batch can hold", async () => {
    await usePolicy(t, { RETRY_BATCH_MAX: "3" });
    for (let i = 0; i < 7; i++) await failedAtSecond(t, "wide", "UPSTREAM_DOWN", i * 2);
    const path = "/admin/retry-batches/new?generator=wide&errorCode=UPSTREAM_DOWN";
    const { res, html } = await client.page(path);
    expect(res.status).toBe(409);
    expect(html).toContain("BATCH_TOO_LARGE");
    const seen = text(html);
    expect(seen).toContain("Split by failure time");
    expect(seen).toContain("A batch holds at most 3 jobs.");

    const links = [...html.matchAll(/<a href="([^"]+)">Preview window (\d+)<\/a>/g)].map(
      ([, href]) => (href ?? "").replace(/&amp;/g, "&"),
    );
    const zero = await yesterdayAt(t, 0);
    const sixth = await yesterdayAt(t, 6);
    expect(links).toHaveLength(3);
    expect(new URL(links[0] ?? "", "http://x").searchParams.get("failedAfter")).toBe(zero);
    expect(new URL(links[0] ?? "", "http://x").searchParams.get("failedBefore")).toBe(sixth);
    const counts = [];
    for (const link of links) {
      const window = await client.page(link);
      expect(window.res.status).toBe(200);
      counts.push(
        Number(
          /<strong>(\d+)<\/strong>/.exec(
            window.html.slice(window.html.indexOf('id="preview-count"')),
          )?.[1],
        ),
      );
    }
    expect(counts).toEqual([3, 3, 1]);
  });
});

describe("what came of a batch's jobs, on its page", () => {
  /** A batch of `n` new failures of `generator`, approved by alice. */
  async function batchOf(generator: string, n: number) {
    for (let i = 0; i < n; i++) await failedJobOf(t.db, generator, "HTTP_STATUS_500");
    const filter = { generator };
    const preview = await previewRetryBatch(t.db, filter);
    return createRetryBatch(t.db, admin, {
      filter,
      previewToken: preview.previewToken,
      reasonCode: "INFRA_ERROR",
      reasonText: "the load balancer dropped connections",
    });
  }

  it("counts the created jobs by status, reloading itself only while some are unfinished", async () => {
    const batch = await batchOf("followed", 3);
    const path = `/admin/retry-batches/${batch.id}`;
    const approved = await client.page(path);
    expect(approved.res.headers.get("refresh")).toBeNull();
    expect(text(approved.html)).toContain("Jobs it created (0) None yet");

    await executeRetryBatch(t.db, secondAdmin, batch.id);
    const running = await client.page(path);
    expect(running.res.headers.get("refresh")).toBe(String(BATCH_REFRESH_SECONDS));
    const seen = text(running.html);
    expect(seen).toContain("Jobs it created (3)");
    expect(seen).toContain("3 of them have yet to finish.");
    expect(seen).toContain(`This page reloads every ${BATCH_REFRESH_SECONDS} seconds`);
    expect(running.html).toContain(`<a href="${path}">Refresh now</a>`);

    const created = (await retryBatchDetail(t.db, batch.id)).intents.map(
      (i) => i.resultingJobId as string,
    );
    await completeJob(t.db, created[0] as string);
    await completeJob(t.db, created[1] as string);
    expect((await client.page(path)).res.headers.get("refresh")).toBe(
      String(BATCH_REFRESH_SECONDS),
    );
    await failJob(t.db, created[2] as string, "HTTP_STATUS_500");
    const done = await client.page(path);
    expect(done.res.headers.get("refresh")).toBeNull();
    expect(text(done.html)).toContain("Every job it created has finished: 2 completed, 1 failed.");
    expect(done.html).not.toContain("Refresh now");
    const outcomes = done.html.slice(done.html.indexOf('<dl class="outcomes"'));
    expect(text(outcomes.slice(0, outcomes.indexOf("</dl>")))).toMatch(
      /PENDING 0 RUNNING 0 COMPLETED 2 FAILED 1/,
    );
  });

  it("does not reload under an admin's half-typed rejection, but does for a viewer", async () => {
    const batch = await batchOf("halfway", 2);
    const [first] = (await retryBatchDetail(t.db, batch.id)).intents;
    await createRetryJobFromIntent(t.db, secondAdmin, first?.id as string);
    const path = `/admin/retry-batches/${batch.id}`;

    const forAdmin = await client.page(path);
    expect(forAdmin.html).toContain(`action="${path}"`);
    expect(forAdmin.res.headers.get("refresh")).toBeNull();
    expect(text(forAdmin.html)).toContain("1 of them has yet to finish. Refresh now");

    const forViewer = await viewer.page(path);
    expect(forViewer.res.headers.get("refresh")).toBe(String(BATCH_REFRESH_SECONDS));
  });
});
