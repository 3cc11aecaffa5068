/// <reference lib="dom" />
/**
 * A retry batch's contents in a real Chromium, without a line of script: the job checkboxes sit
 * outside the approval form and belong to it by their `form` attribute, so the browser sends
 * exactly the jobs left checked; and the batch page, reloaded by its Refresh header, shows the
 * jobs it created finishing while the admin watches.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retryBatchDetail } from "../../functions/domain/retry-batches";
import { SESSION_SECRET, token } from "../helpers/admin";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { completeJob, failedJobOf } from "../helpers/fixtures";
import { launchChromium } from "./chromium";
import { type Served, serveAdmin } from "./serve";

let t: TestDatabase;
let browser: Browser;
let server: Served;
let adminSecret: string;
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
  server = await serveAdmin({ db: t.db, sessionSecret: SESSION_SECRET });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("a batch's contents in Chromium", () => {
  it("approves only the jobs left checked, then follows their jobs as they finish", async () => {
    if (noBrowser) throw noBrowser;
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await failedJobOf(t.db, "boxes", "HTTP_TIMEOUT")).id);
    ids.sort();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.origin}/admin/login`);
    await page.getByLabel("API token").fill(adminSecret);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${server.origin}/admin`);

    await page.goto(`${server.origin}/admin/retry-batches/new?generator=boxes`);
    const left = ids[1] as string;
    await page.getByRole("checkbox", { name: `Approve a retry of job ${left}` }).uncheck();
    await page.getByLabel("Reason", { exact: true }).fill("provider timeouts, resolved");
    await page.getByRole("button", { name: "Approve the checked jobs" }).click();
    await page.waitForURL(/\/admin\/retry-batches\/[a-z0-9]+\?notice=batch-created$/);
    const batchId = new URL(page.url()).pathname.split("/").at(-1) ?? "";
    const approved = await retryBatchDetail(t.db, batchId);
    expect(approved.intents.map((i) => i.sourceJobId)).toEqual(ids.filter((id) => id !== left));

    await page.getByRole("link", { name: "Execute…" }).click();
    await page.getByRole("button", { name: "Confirm: create 2 retry jobs" }).click();
    await page.waitForURL(/\?notice=batch-executed$/);
    expect(await page.locator("#outcomes-state").textContent()).toContain(
      "2 of them have yet to finish.",
    );

    // The jobs finish behind the page's back; its own reload shows it.
    for (const intent of (await retryBatchDetail(t.db, batchId)).intents) {
      await completeJob(t.db, intent.resultingJobId as string);
    }
    await page
      .getByText("Every job it created has finished: 2 completed, 0 failed.")
      .waitFor({ timeout: 20_000 });
    await context.close();
  });
});
