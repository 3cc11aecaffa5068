/// <reference lib="dom" />
/**
 * A refused form in a real Chromium against real PostgreSQL, with no script on the page: the
 * browser stays at the job's address, scrolled to the refusal beside the form, with the
 * refusal focused and what was typed still in the form; and the list opens on what needs a
 * decision, filtered by error code.
 */
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { failedChain, failedJobOf } from "../helpers/fixtures";
import { adminBrowser } from "./admin-browser";

const ui = adminBrowser();

/** A signed-in page, short enough that the retry form sits below the fold. */
async function signedIn(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await ui.newContext({ viewport: { width: 1100, height: 600 } });
  const page = await context.newPage();
  await page.goto(`${ui.server.origin}/admin/login`);
  await page.getByLabel("API token").fill(ui.adminSecret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${ui.server.origin}/admin`);
  return { context, page };
}

describe("a refused retry form in Chromium", () => {
  it("stays at the job's address, scrolled to the refusal, which has the focus", async () => {
    const job = await failedChain(ui.t.db, 3, { code: "BROWSER_BUDGET" });
    const { context, page } = await signedIn();
    const address = `${ui.server.origin}/admin/jobs/${job.id}`;
    await page.goto(address);
    await page.getByLabel("Reason code").selectOption("OTHER");
    await page.getByLabel("Reason", { exact: true }).fill("one more attempt, please");
    await page.getByRole("button", { name: "Create retry intent" }).click();
    await page.waitForLoadState("load");

    expect(page.url()).toBe(address);
    const refusal = page.locator("#retry-form-refusal");
    expect(await refusal.textContent()).toContain('tick "Override the retry budget"');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("retry-form-refusal");
    // In view: the browser scrolled to it, below the top of the page.
    const box = await refusal.boundingBox();
    expect(box).not.toBeNull();
    expect(box?.y ?? -1).toBeGreaterThanOrEqual(0);
    expect((box?.y ?? 0) + 20).toBeLessThanOrEqual(600);
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
    // What was typed is still there; nothing was recorded.
    expect(await page.getByLabel("Reason", { exact: true }).inputValue()).toBe(
      "one more attempt, please",
    );
    expect(await page.getByLabel("Reason code").inputValue()).toBe("OTHER");
    const { rows } = await ui.t.raw.query(
      "SELECT count(*)::int AS n FROM retry_intents WHERE source_job_id = $1",
      [job.id],
    );
    expect(rows[0].n).toBe(0);

    // Corrected as the refusal says: recorded.
    await page.getByLabel("Override the retry budget").check();
    await page.getByRole("button", { name: "Create retry intent" }).click();
    await page.waitForURL(/\/admin\/retry-intents\/[a-z0-9]+\?notice=intent-created$/);
    await context.close();
  });

  it("will not send a retry without a reason code chosen, when none is suggested", async () => {
    const job = await failedJobOf(ui.t.db, "demo", "BROWSER_UNSUGGESTED");
    const { context, page } = await signedIn();
    await page.goto(`${ui.server.origin}/admin/jobs/${job.id}`);
    expect(await page.getByLabel("Reason code").inputValue()).toBe("");
    await page.getByLabel("Reason", { exact: true }).fill("no code chosen");
    await page.getByRole("button", { name: "Create retry intent" }).click();
    // The browser holds the required select: the page is not sent.
    expect(await page.getByLabel("Reason code").evaluate((el) => el.matches(":invalid"))).toBe(
      true,
    );
    expect(page.url()).toBe(`${ui.server.origin}/admin/jobs/${job.id}`);
    const { rows } = await ui.t.raw.query(
      "SELECT count(*)::int AS n FROM retry_intents WHERE source_job_id = $1",
      [job.id],
    );
    expect(rows[0].n).toBe(0);
    await context.close();
  });
});

describe("the list in Chromium", () => {
  it("opens on what needs a decision and filters it by an error code on record", async () => {
    await failedJobOf(ui.t.db, "demo", "BROWSER_TIMEOUT");
    await failedJobOf(ui.t.db, "demo", "BROWSER_OTHER");
    const { context, page } = await signedIn();
    expect(await page.locator("h1").textContent()).toBe("Needs a decision");
    await page.getByLabel("Error code").selectOption("BROWSER_TIMEOUT");
    await page.getByRole("button", { name: "Filter" }).click();
    // Empty fields are left out of the address.
    await page.waitForURL(`${ui.server.origin}/admin?errorCode=BROWSER_TIMEOUT`);
    expect(await page.locator("#jobs-table tbody tr").count()).toBe(1);
    expect(await page.locator(".tab-open .count").textContent()).toBe("1");
    await context.close();
  });
});
