import { describe, expect, it } from "vitest";
import { retryBatchDetail } from "../../functions/domain/retry-batches";
import { completeJob, failedJobOf } from "../helpers/fixtures";
import { adminBrowser } from "./admin-browser";

const ui = adminBrowser();

describe("a batch's contents in Chromium", () => {
  it("approves only the jobs left checked, then follows their jobs as they finish", async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await failedJobOf(ui.t.db, "boxes", "HTTP_TIMEOUT")).id);
    ids.sort();
    const context = await ui.newContext();
    const page = await context.newPage();
    await page.goto(`${ui.server.origin}/admin/login`);
    await page.getByLabel("API token").fill(ui.adminSecret);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${ui.server.origin}/admin`);

    await page.goto(`${ui.server.origin}/admin/retry-batches/new?generator=boxes`);
    const left = ids[1] as string;
    await page.getByRole("checkbox", { name: `Approve a retry of job ${left}` }).uncheck();
    await page.getByLabel("Reason", { exact: true }).fill("provider timeouts, resolved");
    await page.getByRole("button", { name: "Approve the checked jobs" }).click();
    await page.waitForURL(/\/admin\/retry-batches\/[a-z0-9]+\?notice=batch-created$/);
    const batchId = new URL(page.url()).pathname.split("/").at(-1) ?? "";
    const approved = await retryBatchDetail(ui.t.db, batchId);
    expect(approved.intents.map((i) => i.sourceJobId)).toEqual(ids.filter((id) => id !== left));

    await page.getByRole("link", { name: "Execute…" }).click();
    await page.getByRole("button", { name: "Confirm: create 2 retry jobs" }).click();
    await page.waitForURL(/\?notice=batch-executed$/);
    expect(await page.locator("#outcomes-state").textContent()).toContain(
      "2 of them have yet to finish.",
    );

    // The jobs finish behind the page's back; its own reload shows it.
    for (const intent of (await retryBatchDetail(ui.t.db, batchId)).intents) {
      await completeJob(ui.t.db, intent.resultingJobId as string);
    }
    await page
      .getByText("Every job it created has finished: 2 completed, 0 failed.")
      .waitFor({ timeout: 20_000 });
    await context.close();
  });
});
