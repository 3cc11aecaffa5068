/// <reference lib="dom" />
/**
 * Retry batches in a real Chromium against real PostgreSQL: from the failed jobs list to the
 * preview, the approval, the confirmation and the execution, by mouse and by keyboard alone.
 */
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { failedJobOf } from "../helpers/fixtures";
import { adminBrowser } from "./admin-browser";

const ui = adminBrowser();

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await ui.newContext();
  return { context, page: await context.newPage() };
}

/** Presses Tab until the focused element matches `selector`, as a keyboard user would. */
async function tabTo(page: Page, selector: string, limit = 80) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** The retry jobs the batch on this page created, read from the database. */
async function jobsCreatedBy(batchId: string): Promise<number> {
  const { rows } = await ui.t.raw.query(
    `SELECT count(*)::int AS n FROM regeneration_jobs j
     JOIN retry_intents i ON i.id = j.retry_intent_id WHERE i.batch_id = $1`,
    [batchId],
  );
  return rows[0].n as number;
}

/** The batch page's counts, each status word with its number, as a reader pairs them. */
const countsOn = (page: Page) =>
  page
    .locator("dl.counts > div")
    .evaluateAll((pairs) =>
      pairs.map(
        (p) => `${p.querySelector("dt")?.textContent} ${p.querySelector("dd")?.textContent}`,
      ),
    );

const batchIdOf = (url: string) =>
  new URL(url).pathname.slice("/admin/retry-batches/".length).split("/")[0] ?? "";

describe("retry batches in Chromium", () => {
  it("by mouse: failed list, preview, approve, confirm, execute; the counts show the outcome", async () => {
    for (let i = 0; i < 3; i++) await failedJobOf(ui.t.db, "mouse", "HTTP_TIMEOUT");
    await failedJobOf(ui.t.db, "mouse", "INVALID_INPUT");
    const { context, page } = await newPage();
    await page.goto(`${ui.server.origin}/admin/login`);
    await page.getByLabel("API token").fill(ui.adminSecret);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${ui.server.origin}/admin`);

    await page.getByLabel("Generator").selectOption("mouse");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(`${ui.server.origin}/admin?generator=mouse`);
    await page.getByRole("button", { name: "Retry these 4 jobs…" }).click();
    await page.waitForURL(`${ui.server.origin}/admin/retry-batches/new?generator=mouse`);
    expect(await page.locator("#preview-count").textContent()).toMatch(/4\s+failed jobs/);

    // Narrow it to the timeouts, and the suggested reason follows the error code.
    await page.getByLabel("Error code", { exact: true }).selectOption("HTTP_TIMEOUT");
    await page.getByRole("button", { name: "Preview" }).click();
    await page.waitForURL(/errorCode=HTTP_TIMEOUT/);
    expect(await page.locator("#preview-count").textContent()).toMatch(/3\s+failed jobs/);
    expect(await page.getByLabel("Reason code").inputValue()).toBe("TRANSIENT_FAILURE");
    await page.getByLabel("Reason", { exact: true }).fill("provider timeouts, resolved at 10:20");
    await page.getByRole("button", { name: "Approve the checked jobs" }).click();
    await page.waitForURL(/\/admin\/retry-batches\/[a-z0-9]+\?notice=batch-created$/);
    const batchId = batchIdOf(page.url());
    // A surge banner may be a status too; the notice is the one that says what happened.
    expect(await page.getByRole("status").filter({ hasText: "Retry batch approved" }).count()).toBe(
      1,
    );

    await page.getByRole("link", { name: "Execute…" }).click();
    await page.waitForURL(`${ui.server.origin}/admin/retry-batches/${batchId}/execute`);
    expect(await page.getByText("This will create 3 new regeneration jobs.").isVisible()).toBe(
      true,
    );
    expect(await jobsCreatedBy(batchId)).toBe(0);
    await page.getByRole("button", { name: "Confirm: create 3 retry jobs" }).click();
    await page.waitForURL(
      `${ui.server.origin}/admin/retry-batches/${batchId}?notice=batch-executed`,
    );

    expect(await jobsCreatedBy(batchId)).toBe(3);
    expect(
      await page
        .getByRole("status")
        .filter({ hasText: "3 new regeneration jobs created, 0 skipped" })
        .count(),
    ).toBe(1);
    expect(await countsOn(page)).toEqual(["PENDING 0", "CONSUMED 3", "REJECTED 0"]);
    expect(await page.getByRole("link", { name: "Execute…" }).count()).toBe(0);
    await context.close();
  });

  it("by keyboard alone: sign in, filter, preview, approve, execute", async () => {
    for (let i = 0; i < 2; i++) await failedJobOf(ui.t.db, "keys", "DEMO_FAILURE");
    const { context, page } = await newPage();
    await page.goto(`${ui.server.origin}/admin/login`);
    await tabTo(page, "#token");
    await page.keyboard.type(ui.adminSecret);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${ui.server.origin}/admin`);

    await tabTo(page, "#generator-filter");
    await page.keyboard.press("k"); // type-ahead: the only generator starting with k
    expect(await page.locator("#generator-filter").inputValue()).toBe("keys");
    await tabTo(page, "form.list-filters button[type=submit]");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${ui.server.origin}/admin?generator=keys`);
    await tabTo(page, "form.batch-offer button");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(
      "Retry these 2 jobs…",
    );
    await page.keyboard.press("Enter");
    await page.waitForURL(`${ui.server.origin}/admin/retry-batches/new?generator=keys`);

    await tabTo(page, "#batch-reasonCode");
    await page.keyboard.press("I"); // type-ahead: the first reason starting with I
    expect(await page.locator("#batch-reasonCode").inputValue()).toBe("IMPROVED_PROMPT");
    await page.keyboard.press("Tab");
    await page.keyboard.type("prompt v8 handles the long inputs");
    await tabTo(page, 'form[action="/admin/retry-batches"] button[type="submit"]');
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/admin\/retry-batches\/[a-z0-9]+\?notice=batch-created$/);
    const batchId = batchIdOf(page.url());

    await tabTo(page, 'a[href$="/execute"]');
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/execute$/);
    await tabTo(page, 'form[action$="/execute"] button[type="submit"]');
    await page.keyboard.press("Enter");
    await page.waitForURL(/\?notice=batch-executed$/);

    expect(await jobsCreatedBy(batchId)).toBe(2);
    const { rows } = await ui.t.raw.query(
      "SELECT reason_code, reason_text, status FROM retry_intents WHERE batch_id = $1",
      [batchId],
    );
    expect(rows).toEqual([
      {
        reason_code: "IMPROVED_PROMPT",
        reason_text: "prompt v8 handles the long inputs",
        status: "CONSUMED",
      },
      {
        reason_code: "IMPROVED_PROMPT",
        reason_text: "prompt v8 handles the long inputs",
        status: "CONSUMED",
      },
    ]);
    expect(await countsOn(page)).toEqual(["PENDING 0", "CONSUMED 2", "REJECTED 0"]);
    await context.close();
  });
});

describe("the signals page in Chromium", () => {
  it("renders the 24-hour chart as an image with a bar per hour, and its data as a table", async () => {
    await failedJobOf(ui.t.db, "charted", "HTTP_TIMEOUT");
    const { context, page } = await newPage();
    await page.goto(`${ui.server.origin}/admin/login`);
    await page.getByLabel("API token").fill(ui.adminSecret);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${ui.server.origin}/admin`);
    await page.getByRole("link", { name: "Signals" }).click();
    await page.waitForURL(`${ui.server.origin}/admin/signals`);
    const chart = page.getByRole("img").first();
    expect(await chart.isVisible()).toBe(true);
    const box = await chart.boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(100);
    // Bars drawn for the hours that had failures; the table below carries the same numbers.
    expect(await page.locator("svg rect").count()).toBeGreaterThan(0);
    const failures = page.locator("table", { hasText: "charted" }).first();
    expect(await failures.isVisible()).toBe(true);
    expect(await failures.textContent()).toContain("HTTP_TIMEOUT");
    await context.close();
  });
});
