/**
 * What a job's page gives an admin to decide with: the whole error and what the generator
 * service answered (its body for admins only, escaped), how long each attempt took, every
 * attempt of the chain with why each retry was made, and how many jobs failed alike in the
 * hour before. The `http` generator talks to a local server started here, the only stand-in:
 * for the remote service.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as schema from "../../db/schema";
import { type JobError, UPSTREAM_EXCERPT_CHARS } from "../../db/schema";
import { recordAudit } from "../../functions/domain/audit";
import { submitJob } from "../../functions/domain/jobs";
import { jobDetail } from "../../functions/domain/read-models";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { createRegistry, httpGenerator } from "../../functions/execution/generators";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { AdminClient, adminApp, token } from "../helpers/admin";
import { call, testApp } from "../helpers/api";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, completeJob, failJob, secondAdmin, submitter } from "../helpers/fixtures";
import { rawJob } from "../helpers/worker";

let t: TestDatabase;
let client: AdminClient;
let viewer: AdminClient;
let viewerSecret: string;
let service: Server;

const API_KEY = "key-from-config-3c9e71d0";
const MAINTENANCE = "503: Service Unavailable (maintenance window)";
const SCRIPT =
  '<html><body><script>alert("pwned")</script><p>proxy &amp; friends</p></body></html>';
const ONE_MB = 1024 * 1024;

/** The text of the page without tags, whitespace folded: what a reader sees. */
function text(html: string): string {
  return html
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");
}

/** The part of a page from the element with `id` to the end of `tag`, for scoped assertions. */
function section(html: string, id: string, tag: string): string {
  const start = html.indexOf(`id="${id}"`);
  if (start < 0) throw new Error(`no element with id ${id}`);
  return html.slice(start, html.indexOf(`</${tag}>`, start));
}

async function errorOf(jobId: string): Promise<JobError> {
  const job = await rawJob(t.raw, jobId);
  expect(job.status).toBe("FAILED");
  return job.error as JobError;
}

/**
 * Steps past the guards that keep a job's times as the database stamped them (triggers off for
 * this one transaction), so that a test can set how long an attempt took or when it failed
 * without waiting for it.
 */
async function setTimes(jobId: string, assignments: string): Promise<void> {
  await t.raw.query("BEGIN");
  await t.raw.query("SET LOCAL session_replication_role = replica");
  await t.raw.query(`UPDATE regeneration_jobs SET ${assignments} WHERE id = $1`, [jobId]);
  await t.raw.query(
    "UPDATE open_failures SET failed_at = j.finished_at FROM regeneration_jobs j WHERE j.id = $1 AND open_failures.job_id = j.id",
    [jobId],
  );
  await t.raw.query("COMMIT");
}

/** Fails a job as a worker would, with the code and message given. */
async function failWith(jobId: string, code: string, message: string): Promise<void> {
  const worker = { actor: "worker:test" };
  await t.db.transaction(async (tx) => {
    await tx.execute(sql`UPDATE regeneration_jobs
      SET status = 'RUNNING', claimed_by = 'worker:test', claimed_at = now(), lease_expires_at = now() + interval '1 minute'
      WHERE id = ${jobId}`);
    await recordAudit(tx, worker, [{ type: "JOB_CLAIMED", subjectType: "job", subjectId: jobId }]);
  });
  await t.db.transaction(async (tx) => {
    await tx.execute(sql`UPDATE regeneration_jobs
      SET status = 'FAILED', finished_at = now(), error = ${JSON.stringify({ code, message })}::jsonb
      WHERE id = ${jobId}`);
    await recordAudit(tx, worker, [
      { type: "JOB_FAILED", subjectType: "job", subjectId: jobId, data: { code } },
    ]);
  });
}

async function jobOf(generator: string, input: unknown = { text: generator }): Promise<string> {
  await catalogue(t.db, generator);
  return (await submitJob(t.db, submitter, { generator, input })).id;
}

beforeAll(async () => {
  t = await freshDatabase();
  client = new AdminClient(adminApp({ db: t.db }));
  await client.signIn((await token(t.db, "admin", "alice")).secret);
  viewerSecret = (await token(t.db, "viewer", "auditor")).secret;
  viewer = new AdminClient(adminApp({ db: t.db }));
  await viewer.signIn(viewerSecret);

  service = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const { mode } = JSON.parse(body) as { mode: string };
    switch (mode) {
      case "maintenance":
        res
          .writeHead(503, "Service Unavailable", { "content-type": "text/plain" })
          .end(MAINTENANCE);
        return;
      case "huge":
        res.writeHead(503, "Service Unavailable", { "content-type": "text/plain; charset=utf-8" });
        res.end(`start of the answer ${"x".repeat(ONE_MB)}`);
        return;
      case "script":
        res.writeHead(502, "Bad Gateway", { "content-type": "text/html" }).end(SCRIPT);
        return;
      case "binary":
        res
          .writeHead(500, { "content-type": "application/octet-stream" })
          .end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]));
        return;
      case "echo":
        res
          .writeHead(401, "Unauthorized", { "content-type": "text/plain" })
          .end(`key ${req.headers["x-api-key"]} is not valid here`);
        return;
      default:
        res.writeHead(200, { "content-type": "text/html" }).end("<h1>We'll be back soon</h1>");
    }
  });
  await new Promise<void>((resolve) => service.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  service.closeAllConnections();
  await new Promise((resolve) => service.close(resolve));
});

describe("what the generator service answered", () => {
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    for (const mode of ["maintenance", "huge", "script", "binary", "echo", "not-json"]) {
      ids[mode] = await jobOf("http", { mode });
    }
    const port = (service.address() as AddressInfo).port;
    await runWorkerInvocation(t.db, {
      budgetMs: 60_000,
      concurrency: 6,
      batchSize: 10,
      jobTimeoutMs: 60_000,
      generators: createRegistry([
        httpGenerator({
          url: `http://127.0.0.1:${port}/generate`,
          timeoutMs: 55_000,
          headers: { "x-api-key": API_KEY },
        }),
      ]),
      log: () => {},
    });
  });

  it("is recorded beside the code and message: the status line, the type and the body", async () => {
    expect(await errorOf(ids.maintenance as string)).toEqual({
      code: "HTTP_STATUS_503",
      message: "the generator service answered 503",
      generatorVersion: "http@1",
      upstream: {
        status: 503,
        statusText: "Service Unavailable",
        contentType: "text/plain",
        excerpt: MAINTENANCE,
        truncated: false,
      },
    });
    // What counts failures reads the code, as before.
    const { rows } = await t.raw.query("SELECT error_code FROM open_failures WHERE job_id = $1", [
      ids.maintenance,
    ]);
    expect(rows).toEqual([{ error_code: "HTTP_STATUS_503" }]);
  });

  it("keeps a 1 MB answer's first characters only", async () => {
    const error = await errorOf(ids.huge as string);
    expect(error.upstream?.excerpt).toHaveLength(UPSTREAM_EXCERPT_CHARS);
    expect(error.upstream?.excerpt?.startsWith("start of the answer xxx")).toBe(true);
    expect(error.upstream?.truncated).toBe(true);
    const { rows } = await t.raw.query(
      "SELECT octet_length(error::text) AS bytes FROM regeneration_jobs WHERE id = $1",
      [ids.huge],
    );
    expect(rows[0].bytes).toBeLessThan(UPSTREAM_EXCERPT_CHARS + 500);
  });

  it("blanks out the configured credentials a service echoes", async () => {
    const error = await errorOf(ids.echo as string);
    expect(error.upstream?.excerpt).toBe("key [redacted] is not valid here");
    expect(JSON.stringify(error)).not.toContain(API_KEY);
  });

  it("keeps nothing of a body that is not text, and says so", async () => {
    const error = await errorOf(ids.binary as string);
    expect(error.upstream).toEqual({
      status: 500,
      statusText: "Internal Server Error",
      contentType: "application/octet-stream",
      excerpt: null,
      truncated: false,
    });
    const { html } = await client.page(`/admin/jobs/${ids.binary}`);
    expect(text(section(html, "upstream-answer", "div"))).toContain(
      "Its body is not text (application/octet-stream), so none of it was kept.",
    );
  });

  it("is recorded for a 2xx answer that is not JSON too", async () => {
    const error = await errorOf(ids["not-json"] as string);
    expect(error.code).toBe("HTTP_INVALID_RESPONSE");
    expect(error.upstream).toMatchObject({
      status: 200,
      contentType: "text/html",
      excerpt: "<h1>We'll be back soon</h1>",
    });
  });

  it("stays out of the audit trail and the API, which viewers and submitters read", async () => {
    const { rows } = await t.raw.query(
      "SELECT data FROM audit_events WHERE subject_id = $1 AND type = 'JOB_FAILED'",
      [ids.maintenance],
    );
    const recorded = {
      code: "HTTP_STATUS_503",
      message: "the generator service answered 503",
      generatorVersion: "http@1",
    };
    expect(rows).toEqual([{ data: recorded }]);
    const api = await call(testApp(t.db), "GET", `/api/admin/jobs/${ids.maintenance}`, {
      token: viewerSecret,
    });
    expect(api.status).toBe(200);
    expect(api.body.job.error).toEqual(recorded);
    expect(JSON.stringify(api.body)).not.toContain("maintenance window");
  });

  it("is shown whole to an admin, in a block that keeps its lines", async () => {
    const { html } = await client.page(`/admin/jobs/${ids.maintenance}`);
    expect(text(html)).toContain("HTTP_STATUS_503 the generator service answered 503");
    expect(text(html)).toContain(
      "The generator service answered 503 Service Unavailable with text/plain",
    );
    expect(html).toContain(
      `<pre class="upstream-excerpt" id="upstream-excerpt">${MAINTENANCE}</pre>`,
    );
    // Nothing of it is cut to a tooltip.
    expect(html).not.toMatch(/title="[^"]*the generator service answered/);
  });

  it("says when only the beginning of a longer answer was kept", async () => {
    const { html } = await client.page(`/admin/jobs/${ids.huge}`);
    const excerpt = /<pre class="upstream-excerpt"[^>]*>([^<]*)<\/pre>/.exec(html)?.[1] ?? "";
    expect(excerpt).toHaveLength(UPSTREAM_EXCERPT_CHARS);
    expect(text(html)).toContain("The first 2,000 characters of a longer answer.");
  });

  it("shows markup in an answer as text, never as markup", async () => {
    const { html } = await client.page(`/admin/jobs/${ids.script}`);
    expect(html).not.toContain('<script>alert("pwned")</script>');
    expect(html).not.toContain("<p>proxy");
    expect(html).toContain(
      "&lt;html&gt;&lt;body&gt;&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;&lt;p&gt;proxy &amp;amp; friends",
    );
  });

  it("shows a viewer the code, the message and the status line, but not the body", async () => {
    const { res, html } = await viewer.page(`/admin/jobs/${ids.maintenance}`);
    expect(res.status).toBe(200);
    expect(text(html)).toContain("HTTP_STATUS_503 the generator service answered 503");
    expect(text(html)).toContain("503 Service Unavailable");
    expect(html).not.toContain("maintenance window");
    expect(html).not.toContain("upstream-excerpt");
    expect(text(html)).toContain(
      "What its answer said is kept for admins: it may quote the service's data.",
    );
    expect((await viewer.page(`/admin/jobs/${ids.script}`)).html).not.toContain("pwned");
  });
});

describe("how long an attempt took", () => {
  it("shows a finished attempt's time from its claim to its end", async () => {
    const id = await jobOf("demo");
    await failJob(t.db, id);
    await setTimes(id, "claimed_at = finished_at - interval '4.25 seconds'");
    const { html } = await client.page(`/admin/jobs/${id}`);
    const shown = section(html, "attempt-duration", "dd");
    expect(shown).toContain('datetime="PT4.250S"');
    expect(text(shown)).toContain("4.2 s");
  });

  it("shows a running attempt's time so far, by the database's clock", async () => {
    const id = await jobOf("demo");
    await t.db.transaction(async (tx) => {
      await tx.execute(sql`UPDATE regeneration_jobs
        SET status = 'RUNNING', claimed_by = 'worker:test', claimed_at = now() - interval '95 seconds',
            lease_expires_at = now() + interval '1 minute'
        WHERE id = ${id}`);
      await recordAudit(tx, { actor: "worker:test" }, [
        { type: "JOB_CLAIMED", subjectType: "job", subjectId: id },
      ]);
    });
    const { html } = await client.page(`/admin/jobs/${id}`);
    expect(text(section(html, "attempt-duration", "dd"))).toMatch(/running for 1 min 3\d s so far/);
  });

  it("says a waiting job has not been claimed yet", async () => {
    const id = await jobOf("demo");
    const { html } = await client.page(`/admin/jobs/${id}`);
    expect(text(section(html, "attempt-duration", "dd"))).toContain("— (not claimed yet)");
  });
});

describe("the lineage", () => {
  const LONG = `the model provider refused the request: ${"context window exceeded; ".repeat(12)}end`;
  const REASON = "provider raised the context limit at 10:40; same input should fit now";
  let original: string;
  let retry: string;
  let intentId: string;

  beforeAll(async () => {
    original = await jobOf("summarise");
    await failWith(original, "CONTEXT_TOO_LONG", LONG);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: original,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: REASON,
    });
    intentId = intent.id;
    retry = (await createRetryJobFromIntent(t.db, secondAdmin, intent.id)).job.id;
    await failWith(retry, "PROVIDER_DOWN", "the provider answered 503 again");
  });

  it("shows each attempt with its status, its whole error, and links to it", async () => {
    const { html } = await client.page(`/admin/jobs/${retry}`);
    const lineage = section(html, "lineage-title", "section");
    const shown = text(lineage);
    expect(shown).toContain(`original FAILED ${original}`);
    expect(shown).toContain(`CONTEXT_TOO_LONG ${LONG}`);
    expect(shown).toContain(`retry 1 FAILED ${retry} this job`);
    expect(shown).toContain("PROVIDER_DOWN the provider answered 503 again");
    expect(lineage).toContain(`href="/admin/jobs/${original}"`);
    expect(lineage).toContain(`href="/admin/jobs/${retry}"`);
    // Whole: no id cut short, nothing left to a tooltip.
    expect(lineage).not.toContain("…");
    expect(lineage).not.toMatch(/title="[^"]*(CONTEXT_TOO_LONG|context window|PROVIDER_DOWN)/);
  });

  it("says on the step to each retry why it was made and who decided, linked to the intent", async () => {
    const { html } = await client.page(`/admin/jobs/${original}`);
    const lineage = section(html, "lineage-title", "section");
    expect(lineage).toContain(`href="/admin/retry-intents/${intentId}"`);
    expect(text(lineage)).toContain(
      `Retried by intent, TRANSIENT_FAILURE : ${REASON} · approved by admin:alice`,
    );
  });

  it("gives each attempt its duration", async () => {
    await setTimes(retry, "claimed_at = finished_at - interval '12 minutes 5 seconds'");
    const { html } = await client.page(`/admin/jobs/${original}`);
    expect(text(section(html, "lineage-title", "section"))).toContain("attempt: 12 min 5 s");
  });
});

describe("failures like this one in the hour before it", () => {
  const GENERATOR = "burst";
  const CODE = "UPSTREAM_503";
  let target: string;
  let counted: string[];
  let retried: string;
  let old: string;

  beforeAll(async () => {
    const failed = async (generator: string, code: string) => {
      const id = await jobOf(generator);
      await failJob(t.db, id, code);
      return id;
    };
    counted = [await failed(GENERATOR, CODE), await failed(GENERATOR, CODE)];
    retried = await failed(GENERATOR, CODE);
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: retried,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "retried before the others",
    });
    await createRetryJobFromIntent(t.db, secondAdmin, intent.id);
    // Not alike: another code, another generator, or failed more than an hour before.
    await failed(GENERATOR, "OTHER_CODE");
    await failed("quiet", CODE);
    old = await failed(GENERATOR, CODE);
    await setTimes(
      old,
      "finished_at = finished_at - interval '2 hours', claimed_at = claimed_at - interval '2 hours'",
    );
    target = await failed(GENERATOR, CODE);
  });

  it("counts them, says how many have no retry, and names the window", async () => {
    const job = await rawJob(t.raw, target);
    const second = Math.floor((job.finished_at as Date).getTime() / 1000) * 1000;
    const after = new Date(second - 3_600_000).toISOString();
    const before = new Date(second + 1000).toISOString();
    const { html } = await client.page(`/admin/jobs/${target}`);
    const notice = text(section(html, "nearby-failures", "div"));
    expect(notice).toContain(
      `3 other jobs of ${GENERATOR} failed with ${CODE} in the hour before this one`,
    );
    expect(notice).toContain("2 of them have no retry yet.");
    expect(html).toContain(`datetime="${after}"`);
    expect(html).toContain(`datetime="${before}"`);
    const href = new URLSearchParams({
      generator: GENERATOR,
      errorCode: CODE,
      failedAfter: after,
      failedBefore: before,
    });
    expect(html).toContain(
      `href="/admin/retry-batches/new?${href.toString().replaceAll("&", "&amp;")}"`,
    );
  });

  it("links to the preview of a batch of that hour's failures without a retry", async () => {
    const { html } = await client.page(`/admin/jobs/${target}`);
    const href = /href="([^"]+)" id="nearby-batch"/.exec(html)?.[1] ?? "";
    const preview = await client.page(href.replaceAll("&amp;", "&"));
    expect(preview.res.status).toBe(200);
    for (const id of [target, ...counted]) expect(preview.html).toContain(id);
    for (const id of [retried, old]) expect(preview.html).not.toContain(id);
  });

  it("says when no other job failed alike, and offers no batch", async () => {
    const lonely = await jobOf("lonely");
    await failJob(t.db, lonely, CODE);
    const { html } = await viewer.page(`/admin/jobs/${lonely}`);
    expect(text(section(html, "nearby-failures", "div"))).toContain(
      `No other lonely job failed with ${CODE} in the hour before this one`,
    );
    expect(html).not.toContain("nearby-batch");
  });

  it("is not shown for a job that did not fail", async () => {
    const done = await jobOf("demo");
    await completeJob(t.db, done);
    expect((await client.page(`/admin/jobs/${done}`)).html).not.toContain("nearby-failures");
  });

  it("reads the hour's failures through the index of failed jobs, not the whole history", async () => {
    const db = drizzle(t.raw, { schema });
    await t.raw.query("BEGIN");
    try {
      // A table this small is cheapest to scan whole; what is asked is that the index serves.
      await t.raw.query("SET LOCAL enable_seqscan = off");
      const detail = await jobDetail(db, target, { audit: true, nearbyFailures: true });
      expect(detail.nearbyFailures).toMatchObject({ failed: 3, notRetried: 2 });
      // The transaction's own count of scans of the index, before any statistics are sent.
      const { rows } = await t.raw.query(
        "SELECT pg_stat_get_xact_numscans('regeneration_jobs_failed_idx'::regclass) AS scans",
      );
      expect(Number(rows[0]?.scans)).toBeGreaterThan(0);
    } finally {
      await t.raw.query("ROLLBACK");
    }
  });
});
