/// <reference lib="dom" />
/**
 * The admin page in a real Chromium against real PostgreSQL: the retry flow end to end, by
 * mouse and by keyboard alone, what a viewer sees, a cross-origin form post, and the absence of
 * any edit or delete control. One browser for the file; a fresh context per test.
 */
import { Hono } from "hono";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJob } from "../../functions/domain/jobs";
import { createRetryBatch, previewRetryBatch } from "../../functions/domain/retry-batches";
import { createRetryIntent, listRetryIntentsForJob } from "../../functions/domain/retry-intents";
import { SESSION_SECRET, token } from "../helpers/admin";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin as approver, failedChain, failedJob, failedJobOf } from "../helpers/fixtures";
import { launchChromium } from "./chromium";
import { listen, type Served, serveAdmin } from "./serve";

let t: TestDatabase;
let browser: Browser;
let server: Served;
let attacker: Served;
let adminSecret: string;
let viewerSecret: string;
/** Where the attacker's page posts its form; set by the test before it opens the page. */
let attackTarget = "";

/** Why there is no browser, if there is none: every test fails with it rather than skipping. */
let noBrowser: unknown;

beforeAll(async () => {
  try {
    browser = await launchChromium();
  } catch (error) {
    noBrowser = error;
  }
  t = await freshDatabase();
  adminSecret = (await token(t.db, "admin", "alice")).secret;
  viewerSecret = (await token(t.db, "viewer", "auditor")).secret;
  server = await serveAdmin({ db: t.db, sessionSecret: SESSION_SECRET });
  // A second origin, as a malicious site would be: its page submits a form to the admin page.
  const evil = new Hono();
  evil.get("/attack", (c) =>
    c.html(`<!doctype html><title>Win a prize</title>
      <form method="post" action="${attackTarget}">
        <input name="reasonCode" value="OTHER"><input name="reasonText" value="forged">
      </form>
      <script>document.forms[0].submit()</script>`),
  );
  attacker = await listen(evil);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await attacker?.close();
});

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  if (noBrowser) throw noBrowser;
  const context = await browser.newContext();
  return { context, page: await context.newPage() };
}

async function signIn(page: Page, secret: string) {
  await page.goto(`${server.origin}/admin/login`);
  await page.getByLabel("API token").fill(secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${server.origin}/admin`);
}

/** Presses Tab until the focused element matches `selector`, as a keyboard user would. */
async function tabTo(page: Page, selector: string, limit = 80) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** A PENDING batch of the failed jobs of `generator`, approved by another admin. */
async function batchOf(generator: string) {
  await failedJobOf(t.db, generator, "DEMO_FAILURE");
  const filter = { generator };
  return createRetryBatch(t.db, approver, {
    filter,
    previewToken: (await previewRetryBatch(t.db, filter)).previewToken,
    reasonCode: "OTHER",
    reasonText: "for the page inventory",
  });
}

const idFromUrl = (url: string, prefix: string) =>
  new URL(url).pathname.slice(prefix.length).split("/")[0] ?? "";

describe("admin page in Chromium", () => {
  it("signs in, creates an intent from the failed job page, executes it through the confirmation and lands on the new job; Execute is gone afterwards", async () => {
    const job = await failedJob(t.db, { text: "browser flow" });
    const { context, page } = await newPage();
    await signIn(page, adminSecret);

    await page.locator(`a[href="/admin/jobs/${job.id}"]`).first().click();
    await page.waitForURL(`${server.origin}/admin/jobs/${job.id}`);
    await page.getByLabel("Reason code").selectOption("TRANSIENT_FAILURE");
    await page.getByLabel("Reason", { exact: true }).fill("upstream timed out at 09:12");
    await page.getByRole("button", { name: "Create retry intent" }).click();
    await page.waitForURL(/\/admin\/retry-intents\/[a-z0-9]+\?notice=intent-created$/);
    const intentId = idFromUrl(page.url(), "/admin/retry-intents/");
    expect(await page.getByRole("status").textContent()).toContain("Retry intent created");

    await page.getByRole("link", { name: "Execute…" }).click();
    await page.waitForURL(`${server.origin}/admin/retry-intents/${intentId}/execute`);
    expect(await page.getByText("This will create a new regeneration job.").isVisible()).toBe(true);
    await page.getByRole("button", { name: "Confirm: create the retry job" }).click();
    await page.waitForURL(/\/admin\/jobs\/[a-z0-9]+\?notice=retry-created$/);

    const newJobId = idFromUrl(page.url(), "/admin/jobs/");
    expect(newJobId).not.toBe(job.id);
    expect(await getJob(t.db, newJobId)).toMatchObject({
      status: "PENDING",
      retryOfJobId: job.id,
      retryIntentId: intentId,
    });
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(newJobId);
    expect(await page.locator(`a[href="/admin/jobs/${job.id}"]`).count()).toBeGreaterThan(0);

    await page.goto(`${server.origin}/admin/retry-intents/${intentId}`);
    expect(await page.getByRole("link", { name: "Execute…" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /Execute|Confirm/ }).count()).toBe(0);
    expect(await page.getByText("CONSUMED").first().isVisible()).toBe(true);
    await context.close();
  });

  it("works with the keyboard alone: sign in, create an intent, execute it", async () => {
    const job = await failedJob(t.db, { text: "keyboard flow" });
    const { context, page } = await newPage();
    await page.goto(`${server.origin}/admin/login`);
    await tabTo(page, "#token");
    await page.keyboard.type(adminSecret);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${server.origin}/admin`);

    // The first stop on every page skips the navigation.
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await tabTo(page, `a[href="/admin/jobs/${job.id}"]`);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${server.origin}/admin/jobs/${job.id}`);

    await tabTo(page, "#reasonCode");
    await page.keyboard.press("I"); // type-ahead: the first reason starting with I
    expect(await page.locator("#reasonCode").inputValue()).toBe("IMPROVED_PROMPT");
    await page.keyboard.press("Tab");
    await page.keyboard.type("prompt v7 fixes the refusal");
    await tabTo(page, '#retry form[method="post"] button[type="submit"]');
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/admin\/retry-intents\/[a-z0-9]+\?notice=intent-created$/);

    await tabTo(page, 'a[href$="/execute"]');
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/execute$/);
    await tabTo(page, 'form[action$="/execute"] button[type="submit"]');
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/admin\/jobs\/[a-z0-9]+\?notice=retry-created$/);

    const [intent] = await listRetryIntentsForJob(t.db, job.id);
    expect(intent).toMatchObject({
      status: "CONSUMED",
      reasonCode: "IMPROVED_PROMPT",
      reasonText: "prompt v7 fixes the refusal",
    });
    await context.close();
  });

  it("shows a viewer everything but no form or control that changes anything", async () => {
    const job = await failedJob(t.db, { text: "viewer" });
    const intent = await createRetryIntent(t.db, approver, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "waiting for an admin",
    });
    const batch = await batchOf("viewer-batch");
    const { context, page } = await newPage();
    await signIn(page, viewerSecret);
    for (const path of [
      "/admin",
      `/admin/jobs/${job.id}`,
      `/admin/jobs/${job.id}/retry-intents`,
      "/admin/retry-intents",
      `/admin/retry-intents/${intent.id}`,
      "/admin/retry-batches",
      "/admin/retry-batches/new",
      `/admin/retry-batches/${batch.id}`,
      "/admin/audit",
    ]) {
      await page.goto(server.origin + path);
      const postForms = await page
        .locator('form[method="post"]')
        .evaluateAll((forms) => forms.map((f) => f.getAttribute("action")));
      expect(postForms, path).toEqual(["/admin/logout"]);
      const buttons = await page.getByRole("button").allTextContents();
      expect(
        buttons
          .map((b) => b.trim())
          .filter((b) => !["Sign out", "Filter", "Preview", "Find"].includes(b)),
        path,
      ).toEqual([]);
      expect(await page.locator("textarea").count(), path).toBe(0);
      expect(await page.getByRole("link", { name: "Execute…" }).count(), path).toBe(0);
    }
    await page.goto(`${server.origin}/admin/jobs/${job.id}`);
    expect(await page.getByText("You are signed in as a viewer").isVisible()).toBe(true);
    await context.close();
  });

  it("refuses a form that a page of another origin posts to the admin page, and changes nothing", async () => {
    const job = await failedJob(t.db, { text: "csrf" });
    attackTarget = `${server.origin}/admin/jobs/${job.id}/retry-intents`;
    const { context, page } = await newPage();
    await signIn(page, adminSecret);

    // 127.0.0.1 on another port is another origin but the same site, so the SameSite=Strict
    // cookie does travel: the Origin check alone must refuse it.
    const sameSite = page.waitForResponse(
      (r) => r.url() === attackTarget && r.request().method() === "POST",
    );
    await page.goto(`${attacker.origin}/attack`);
    const refused = await sameSite;
    expect(refused.status()).toBe(403);
    const sent = await refused.request().allHeaders();
    expect(sent.origin).toBe(attacker.origin);
    expect(sent.cookie ?? "").toContain("regent_admin=");
    await page.waitForURL(attackTarget);
    expect(await page.getByText("This form was sent from another site").isVisible()).toBe(true);

    // From another site altogether the cookie stays home as well.
    const crossSite = page.waitForResponse(
      (r) => r.url() === attackTarget && r.request().method() === "POST",
    );
    await page.goto(`${attacker.origin.replace("127.0.0.1", "localhost")}/attack`);
    const refusedAgain = await crossSite;
    expect(refusedAgain.status()).toBe(403);
    expect((await refusedAgain.request().allHeaders()).cookie ?? "").not.toContain("regent_admin=");

    expect(await listRetryIntentsForJob(t.db, job.id)).toEqual([]);
    await context.close();
  });

  it("has no edit or delete control anywhere; every control is labelled and every button is a button", async () => {
    const job = await failedJob(t.db, { text: "inventory" });
    const intent = await createRetryIntent(t.db, approver, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: "for the inventory",
    });
    const open = await failedJob(t.db, { text: "open" });
    const overBudget = await failedChain(t.db, 3);
    const batch = await batchOf("inventory-batch");
    const { context, page } = await newPage();
    const violations: string[] = [];
    page.on("console", (m) => {
      if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
    });
    page.on("pageerror", (e) => violations.push(e.message));
    await page.goto(`${server.origin}/admin/login`);
    const pages = ["/admin/login"];
    await signIn(page, adminSecret);
    pages.push(
      "/admin",
      "/admin?status=all",
      `/admin/jobs/${open.id}`,
      `/admin/jobs/${job.id}`,
      `/admin/jobs/${job.id}/retry-intents`,
      "/admin/retry-intents",
      `/admin/retry-intents/${intent.id}`,
      `/admin/retry-intents/${intent.id}/execute`,
      `/admin/jobs/${overBudget.id}`,
      "/admin/retry-batches",
      "/admin/retry-batches/new",
      `/admin/retry-batches/${batch.id}`,
      `/admin/retry-batches/${batch.id}/execute`,
      "/admin/audit",
    );
    const allowedActions = [
      /^\/admin\/(login|logout)$/,
      /^\/admin\/jobs\/[a-z0-9]+$/,
      /^\/admin\/jobs\/[a-z0-9]+\/retry-intents$/,
      /^\/admin\/retry-intents\/[a-z0-9]+(\/execute)?$/,
      /^\/admin\/retry-batches$/,
      /^\/admin\/retry-batches\/[a-z0-9]+(\/execute)?$/,
    ];
    for (const path of pages) {
      await page.goto(server.origin + path);
      const controls = await page
        .locator("a, button, input:not([type=hidden]), select, textarea, [role=button], [tabindex]")
        .evaluateAll((els) =>
          els.map((e) =>
            [e.textContent, e.getAttribute("aria-label"), e.getAttribute("value"), e.id]
              .join(" ")
              .trim(),
          ),
        );
      expect(
        controls.filter((c) => /\b(edit|delete|remove)\b/i.test(c)),
        path,
      ).toEqual([]);

      const unlabelled = await page
        .locator("input:not([type=hidden]), select, textarea")
        .evaluateAll((els) =>
          els
            .filter(
              (e) => (e as HTMLInputElement).labels?.length === 0 && !e.getAttribute("aria-label"),
            )
            .map((e) => e.outerHTML),
        );
      expect(unlabelled, path).toEqual([]);

      // Actions are <button>s; nothing pretends to be one.
      expect(
        await page
          .locator("[role=button], [onclick], input[type=submit], input[type=button]")
          .count(),
        path,
      ).toBe(0);
      const forms = await page.locator("form").evaluateAll((fs) =>
        fs.map((f) => ({
          method: f.getAttribute("method"),
          action: f.getAttribute("action") ?? "",
          submit: f.querySelectorAll('button[type="submit"]').length,
        })),
      );
      for (const form of forms) {
        expect(form.submit, `${path} ${form.action}`).toBe(1);
        if (form.method === "post") {
          expect(
            allowedActions.some((re) => re.test(form.action)),
            `${path} ${form.action}`,
          ).toBe(true);
        }
      }
    }
    // The stylesheet loaded under the CSP, and nothing on any page broke it.
    const background = await page
      .locator(".topbar")
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(background).toBe("rgb(21, 24, 28)");
    expect(violations).toEqual([]);
    await context.close();
  });
});
