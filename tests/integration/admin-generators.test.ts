/**
 * The generators page and its brake: the catalog with each generator's pending jobs and last
 * day's failure rate, pausing and resuming behind a confirmation, the banner every page shows
 * while a generator is paused, and the signals page's way to pause. The HTML through
 * `app.request()` against real PostgreSQL, and what each form wrote (or did not) read back.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { auditTrail } from "../../functions/domain/audit";
import { submitJob } from "../../functions/domain/jobs";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { AdminClient, adminApp, csrfOf, token } from "../helpers/admin";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, completeJob, failedJobOf, secondAdmin, submitter } from "../helpers/fixtures";

let t: TestDatabase;
let client: AdminClient;
let viewer: AdminClient;
let alice: Awaited<ReturnType<typeof token>>;

/** The generator these tests pull the brake on; `demo` and `http` stay untouched. */
const NAME = "mailer";
const PAUSE = `/admin/generators/${NAME}/pause`;
const RESUME = `/admin/generators/${NAME}/resume`;
const BANNER = 'class="notice notice-warn paused-banner"';
const REASON = "provider returns 502 since 09:40; paused until they confirm the fix";

beforeAll(async () => {
  t = await freshDatabase();
  alice = await token(t.db, "admin", "alice");
  client = new AdminClient(adminApp({ db: t.db }));
  await client.signIn(alice.secret);
  viewer = new AdminClient(adminApp({ db: t.db }));
  await viewer.signIn((await token(t.db, "viewer", "auditor")).secret);

  await catalogue(t.db, NAME);
  // The last day: 3 failed and 1 completed (75 % failed), 2 waiting. One more failure two days
  // ago, outside the window.
  for (let i = 0; i < 3; i++) await failedJobOf(t.db, NAME, "HTTP_STATUS_502");
  await completeJob(t.db, (await submitJob(t.db, submitter, { generator: NAME, input: {} })).id);
  for (let i = 0; i < 2; i++) await submitJob(t.db, submitter, { generator: NAME, input: {} });
  const old = await failedJobOf(t.db, NAME, "HTTP_STATUS_502");
  await backdate(old.id, "2 days");
});

/**
 * Moves a job's creation into the past, as if it had been there that long. A job's created_at
 * is guarded against every client; the fixture steps past the guard (triggers off for this one
 * transaction) rather than waiting.
 */
async function backdate(jobId: string, interval: string) {
  await t.raw.query("BEGIN");
  await t.raw.query("SET LOCAL session_replication_role = replica");
  await t.raw.query(
    `UPDATE regeneration_jobs SET created_at = now() - $2::interval,
       finished_at = now() - $2::interval WHERE id = $1`,
    [jobId, interval],
  );
  await t.raw.query("COMMIT");
}

/** The text of the page without tags, whitespace folded: what a reader sees. */
function text(html: string): string {
  return html
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");
}

/** The table row of `name` on the generators page. */
function rowOf(html: string, name: string): string {
  const start = html.indexOf(`<tr id="generator-${name}">`);
  expect(start, `no row for ${name}`).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf("</tr>", start));
}

/** The catalog row and the audit events of every generator: what a brake could write. */
async function snapshot(): Promise<string> {
  const { rows } = await t.raw.query(`SELECT
    (SELECT jsonb_agg(to_jsonb(g) ORDER BY g.name) FROM generators g) AS generators,
    (SELECT count(*) FROM audit_events WHERE subject_type = 'generator') AS events,
    (SELECT count(*) FROM regeneration_jobs WHERE status = 'PENDING') AS pending`);
  return JSON.stringify(rows[0]);
}

const pausedRow = async () =>
  (
    await t.raw.query("SELECT paused_at, paused_by, pause_reason FROM generators WHERE name = $1", [
      NAME,
    ])
  ).rows[0];

describe("/admin/generators", () => {
  it("lists each generator with its version, state, pending jobs and last day's failure rate", async () => {
    const { res, html } = await client.page("/admin/generators");
    expect(res.status).toBe(200);
    expect(html).toContain("<h1>Generators</h1>");
    expect(html).toContain('<a href="/admin/generators" aria-current="page">Generators</a>');

    const row = text(rowOf(html, NAME));
    expect(row).toContain(`${NAME} ${NAME}@test`);
    expect(row).toContain("running");
    // Pending: the 2 waiting jobs, linked to the list of them.
    expect(rowOf(html, NAME)).toContain(
      `<a href="/admin?status=PENDING&amp;generator=${NAME}">2</a>`,
    );
    // 3 of the 4 jobs created in the last day that finished failed; the older failure is not counted.
    expect(row).toContain("75 % (3 of 4)");
    // No job of demo finished in the last day: a dash, not 0 %.
    expect(text(rowOf(html, "demo"))).toContain("— (none finished)");
    expect(text(rowOf(html, "demo"))).toMatch(/demo demo@\S+ running 0 —/);

    expect(rowOf(html, NAME)).toContain(`href="${PAUSE}"`);
    expect(text(rowOf(html, NAME))).toMatch(new RegExp(`Pause ${NAME} ?…`));
    expect(html).not.toContain(BANNER);

    // Every page names it in the navigation.
    expect((await client.page("/admin")).html).toContain(
      '<a href="/admin/generators">Generators</a>',
    );
  });

  it("shows a viewer every figure but no control, and refuses the brake with 403", async () => {
    const before = await snapshot();
    const { res, html } = await viewer.page("/admin/generators");
    expect(res.status).toBe(200);
    expect(text(rowOf(html, NAME))).toContain("75 % (3 of 4)");
    expect(html).not.toMatch(/\/admin\/generators\/[^"]+\/(pause|resume)"/);
    expect(html).not.toContain('method="post" action="/admin/generators');
    expect(text(html)).toContain("only an admin can pause or resume a generator");

    const confirm = await viewer.request(PAUSE);
    expect(confirm.status).toBe(403);
    expect(await confirm.text()).toContain("Admins only");
    const posted = await viewer.post(PAUSE, { reasonText: "not mine to pull" });
    expect(posted.status).toBe(403);
    expect(await snapshot()).toBe(before);
  });
});

describe("pausing and resuming", () => {
  it("confirms first, saying what happens to the jobs, and writes nothing until confirmed", async () => {
    const before = await snapshot();
    const { res, html } = await client.page(PAUSE);
    expect(res.status).toBe(200);
    const seen = text(html);
    expect(seen).toContain(`This will pause generator ${NAME}.`);
    expect(seen).toContain(`No worker claims a job of ${NAME} until an admin resumes it.`);
    expect(seen).toContain("Its 2 pending jobs stay PENDING.");
    expect(seen).toContain("None is failed");
    expect(seen).toContain(`jobs of ${NAME} running now finish`);
    expect(html).toContain(`<form method="post" action="${PAUSE}"`);
    expect(html).toMatch(
      /<textarea id="brake-reasonText" name="reasonText" required="" maxlength="2000"/,
    );
    expect(html).toContain('<label for="brake-reasonText">Reason for pausing</label>');
    expect(csrfOf(html)).toMatch(/.+/);
    expect(await snapshot()).toBe(before);
  });

  it("pauses with a reason: 303 to the list, audited with actor and reason, named on every page", async () => {
    const pendingBefore = await t.raw.query(
      "SELECT id FROM regeneration_jobs WHERE generator = $1 AND status = 'PENDING' ORDER BY id",
      [NAME],
    );
    const res = await client.post(PAUSE, { reasonText: REASON }, { from: PAUSE });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/generators?notice=generator-paused");

    expect(await pausedRow()).toMatchObject({ paused_by: alice.actor, pause_reason: REASON });
    const events = (await auditTrail(t.db, NAME)).filter((e) => e.type === "GENERATOR_PAUSED");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: alice.actor,
      subjectType: "generator",
      data: { reasonText: REASON, version: `${NAME}@test` },
    });
    // Its jobs are untouched: the same ones wait, PENDING.
    const pendingAfter = await t.raw.query(
      "SELECT id FROM regeneration_jobs WHERE generator = $1 AND status = 'PENDING' ORDER BY id",
      [NAME],
    );
    expect(pendingAfter.rows).toEqual(pendingBefore.rows);

    const list = await client.page("/admin/generators?notice=generator-paused");
    expect(text(list.html)).toContain("Generator paused.");
    const row = text(rowOf(list.html, NAME));
    expect(row).toContain("paused by alice");
    expect(row).toContain(REASON);
    expect(rowOf(list.html, NAME)).toContain(`href="${RESUME}"`);
    expect(rowOf(list.html, NAME)).not.toContain(`href="${PAUSE}"`);

    for (const who of [client, viewer]) {
      for (const path of [
        "/admin",
        "/admin/audit",
        "/admin/retry-intents",
        "/admin/retry-batches",
        "/admin/signals",
        "/admin/generators",
      ]) {
        const { html } = await who.page(path);
        expect(html, path).toContain(BANNER);
        const banner = html.slice(
          html.indexOf(BANNER),
          html.indexOf("</div>", html.indexOf(BANNER)),
        );
        expect(banner).toContain('role="status"');
        expect(banner).toContain('aria-label="Paused generators"');
        expect(text(banner)).toMatch(
          new RegExp(`Paused: ${NAME} — by alice token ?, (just now|\\d+ min ago) ?: ${REASON}`),
        );
        expect(banner).toContain('href="/admin/generators"');
      }
    }
  });

  it("refuses to pause it again with a 409 page, and writes nothing", async () => {
    const before = await snapshot();
    const confirm = await client.page(PAUSE);
    expect(confirm.res.status).toBe(409);
    expect(confirm.html).toContain("GENERATOR_ALREADY_PAUSED");
    expect(confirm.html).not.toContain(`action="${PAUSE}"`);

    const res = await client.post(PAUSE, { reasonText: "again" }, { from: "/admin/generators" });
    expect(res.status).toBe(409);
    const html = await res.text();
    expect(html).toContain("GENERATOR_ALREADY_PAUSED");
    expect(text(html)).toContain(`generator ${NAME} is paused already (by ${alice.actor}`);
    expect(text(html)).toContain("Nothing was changed");
    expect(await snapshot()).toBe(before);
  });

  it("refuses a blank reason with 400, keeping the form, and writes nothing", async () => {
    const before = await snapshot();
    const res = await client.post(RESUME, { reasonText: "   " }, { from: RESUME });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain("VALIDATION_FAILED");
    expect(text(html)).toContain("reasonText must be 1 to 2000 characters");
    expect(html).toContain(`action="${RESUME}"`);

    const pause = await client.post("/admin/generators/demo/pause", { reasonText: "" });
    expect(pause.status).toBe(400);
    expect(await pause.text()).toContain("VALIDATION_FAILED");
    expect(await snapshot()).toBe(before);
  });

  it("refuses a post without the form token, and one from another origin", async () => {
    const before = await snapshot();
    const noToken = await client.post(RESUME, { reasonText: "forged" }, { csrf: null });
    expect(noToken.status).toBe(403);
    expect(await noToken.text()).toContain("This form has expired");
    const wrongToken = await client.post(
      RESUME,
      { reasonText: "forged" },
      { csrf: "x".repeat(43) },
    );
    expect(wrongToken.status).toBe(403);
    const elsewhere = await client.post(
      RESUME,
      { reasonText: "forged" },
      { from: RESUME, origin: "https://evil.example" },
    );
    expect(elsewhere.status).toBe(403);
    expect(await snapshot()).toBe(before);
  });

  it("resumes with a reason: the jobs can be claimed, the banner is gone, GENERATOR_RESUMED", async () => {
    const { res, html } = await client.page(RESUME);
    expect(res.status).toBe(200);
    const seen = text(html);
    expect(seen).toContain(`This will resume generator ${NAME}.`);
    expect(seen).toContain("Its 2 waiting jobs become claimable and the worker is woken");
    expect(seen).toContain(REASON);
    expect(html).toContain('<label for="brake-reasonText">Reason for resuming</label>');

    const done = await client.post(RESUME, { reasonText: "provider fixed it" }, { from: RESUME });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/admin/generators?notice=generator-resumed");
    expect(await pausedRow()).toEqual({ paused_at: null, paused_by: null, pause_reason: null });
    const resumed = (await auditTrail(t.db, NAME)).filter((e) => e.type === "GENERATOR_RESUMED");
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toMatchObject({
      actor: alice.actor,
      data: { reasonText: "provider fixed it", pausedBy: alice.actor, pauseReason: REASON },
    });

    const list = await client.page("/admin/generators?notice=generator-resumed");
    expect(text(list.html)).toContain("Generator resumed.");
    expect(text(rowOf(list.html, NAME))).toContain("running");
    for (const path of ["/admin", "/admin/audit", "/admin/signals", "/admin/generators"]) {
      expect((await client.page(path)).html, path).not.toContain(BANNER);
    }

    // And once more: it is running, so there is nothing to resume.
    const before = await snapshot();
    const again = await client.post(RESUME, { reasonText: "again" }, { from: "/admin/generators" });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("GENERATOR_NOT_PAUSED");
    expect((await client.page(RESUME)).res.status).toBe(409);
    expect(await snapshot()).toBe(before);
  });

  it("answers an unknown generator with a 404 page, and writes nothing", async () => {
    const before = await snapshot();
    for (const path of ["/admin/generators/nope/pause", "/admin/generators/nope/resume"]) {
      const { res, html } = await client.page(path);
      expect(res.status, path).toBe(404);
      expect(html).toContain("Generator not found");
      expect(html).toContain("GENERATOR_NOT_FOUND");
      const posted = await client.post(path, { reasonText: "no such thing" });
      expect(posted.status, path).toBe(404);
      expect(await posted.text()).toContain("Generator not found");
    }
    expect(await snapshot()).toBe(before);
  });
});

describe("the signals page and the brake", () => {
  it("offers to pause each failing generator of the catalog, or says it is paused", async () => {
    const { html } = await client.page("/admin/signals");
    const failures = html.slice(html.indexOf('id="failures-by"'), html.indexOf('id="surge-rule"'));
    expect(failures).toMatch(
      new RegExp(
        `>${NAME}</a></td><td data-label="Error code"><code>HTTP_STATUS_502</code></td><td class="num" data-label="Failed jobs">4</td><td data-label="Brake"><a href="${PAUSE}">Pause<span class="sr-only"> ${NAME}</span>…</a>`,
      ),
    );
    // A viewer reads the same table without the link.
    const seen = await viewer.page("/admin/signals");
    expect(seen.html).not.toContain(`href="${PAUSE}"`);

    await client.post(PAUSE, { reasonText: REASON }, { from: PAUSE });
    const paused = await client.page("/admin/signals");
    expect(paused.html).not.toContain(`href="${PAUSE}"`);
    expect(paused.html).toContain(
      `<a href="/admin/generators#generator-${NAME}" class="badge badge-awaiting">paused</a>`,
    );
    await client.post(RESUME, { reasonText: "back on" }, { from: RESUME });
  });

  it("points to the generators page while retries surge", async () => {
    const surging = new AdminClient(adminApp({ db: t.db, env: { RETRY_SURGE_MIN: "1" } }));
    await surging.signIn(alice.secret);
    const calm = await surging.page("/admin/signals");
    expect(calm.html).not.toContain('class="surge-brake"');

    const source = await failedJobOf(t.db, "demo", "DEMO_FAILURE");
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: source.id,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "upstream flapped",
    });
    await createRetryJobFromIntent(t.db, secondAdmin, intent.id);
    const { html } = await surging.page("/admin/signals");
    const section = html.slice(html.indexOf('id="surge-rule"'), html.indexOf('id="retries-by"'));
    expect(section).toContain('<span class="badge badge-failed">surging</span>');
    expect(section).toMatch(/class="surge-brake">[\s\S]*<a href="\/admin\/generators">/);
  });
});
