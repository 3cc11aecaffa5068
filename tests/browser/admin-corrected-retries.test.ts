/// <reference lib="dom" />
/**
 * Corrected inputs and supersessions in a real Chromium against real PostgreSQL, with the real
 * worker running the jobs: a failed job retried with a corrected input until it completes, and
 * a completed result superseded, whose old page then shows both outputs side by side. The old
 * job's row and output are compared byte for byte before and after.
 */
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { submitJob } from "../../functions/domain/jobs";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { submitter } from "../helpers/fixtures";
import { adminBrowser } from "./admin-browser";

const ui = adminBrowser();

async function signedIn(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await ui.newContext();
  const page = await context.newPage();
  await page.goto(`${ui.server.origin}/admin/login`);
  await page.getByLabel("API token").fill(ui.adminSecret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${ui.server.origin}/admin`);
  return { context, page };
}

/** Runs every PENDING job, as the worker's invocation does. */
async function runWorker(): Promise<void> {
  await runWorkerInvocation(ui.t.db, {
    budgetMs: 10_000,
    concurrency: 4,
    batchSize: 50,
    housekeeping: false,
    log: () => {},
  });
}

/** A demo job submitted with `input` and run by the worker. */
async function ranJob(input: Record<string, unknown>): Promise<string> {
  const job = await submitJob(ui.t.db, submitter, { generator: "demo", input });
  await runWorker();
  return job.id;
}

/** A job's row and its output's, exactly as stored, as text: equal means unchanged byte for byte. */
async function storedJob(id: string): Promise<{ job: string; output: string | null }> {
  const { rows } = await ui.t.raw.query(
    `SELECT j::text AS job, (SELECT o::text FROM regeneration_outputs o WHERE o.job_id = j.id) AS output
     FROM regeneration_jobs j WHERE j.id = $1`,
    [id],
  );
  return rows[0];
}

async function jobRow(id: string) {
  const { rows } = await ui.t.raw.query(
    `SELECT j.status, j.input, j.retry_of_job_id, j.retry_intent_id, o.content
     FROM regeneration_jobs j LEFT JOIN regeneration_outputs o ON o.job_id = j.id WHERE j.id = $1`,
    [id],
  );
  return rows[0];
}

const idFromUrl = (url: string, prefix: string) =>
  new URL(url).pathname.slice(prefix.length).split("/")[0] ?? "";

/** The marked lines of the comparison inside `scope`: removed on the old side, added on the new. */
const markedLines = (page: Page, scope: string, tag: "del" | "ins") =>
  page.locator(`${scope} ${tag}.diff-line`).allTextContents();

describe("corrected inputs and supersessions in Chromium", () => {
  it("retries a failed job with a corrected input and BAD_INPUT; the worker completes the new job", async () => {
    const failedId = await ranJob({ text: "hello", failAttempts: 5 });
    expect((await jobRow(failedId)).status).toBe("FAILED");
    const before = await storedJob(failedId);
    const { context, page } = await signedIn();

    await page.goto(`${ui.server.origin}/admin/jobs/${failedId}`);
    const corrected = page.getByLabel("Corrected input (JSON)");
    expect(await corrected.inputValue()).toBe("");
    await page.getByLabel("Reason code").selectOption("BAD_INPUT");
    await page
      .getByLabel("Reason", { exact: true })
      .fill("failAttempts was copied from a test fixture");
    await corrected.fill('{ "text": "hello" }');
    await page.getByRole("button", { name: "Create retry intent" }).click();
    await page.waitForURL(/\/admin\/retry-intents\/[a-z0-9]+\?notice=intent-created$/);
    const intentId = idFromUrl(page.url(), "/admin/retry-intents/");

    expect(await page.getByRole("heading", { name: "Input: before → after" }).isVisible()).toBe(
      true,
    );
    expect(await markedLines(page, "#input-change", "del")).toEqual(['  "failAttempts": 5,']);
    expect(await markedLines(page, "#input-change", "ins")).toEqual([]);

    await page.getByRole("link", { name: "Execute…" }).click();
    await page.waitForURL(`${ui.server.origin}/admin/retry-intents/${intentId}/execute`);
    const willRun = await page.locator("#will-run").textContent();
    expect(willRun?.replace(/\s+/g, " ")).toContain(
      "at its current version, demo@1, with the corrected input shown below",
    );
    await page.getByRole("button", { name: "Confirm: create the retry job" }).click();
    await page.waitForURL(/\/admin\/jobs\/[a-z0-9]+\?notice=retry-created$/);
    const newJobId = idFromUrl(page.url(), "/admin/jobs/");

    await runWorker();
    expect(await jobRow(newJobId)).toEqual({
      status: "COMPLETED",
      input: { text: "hello" },
      retry_of_job_id: failedId,
      retry_intent_id: intentId,
      content: { text: "HELLO" },
    });
    await page.goto(`${ui.server.origin}/admin/jobs/${newJobId}`);
    expect(await page.locator(".page-head .badge").textContent()).toBe("COMPLETED");
    expect(await page.locator('section[aria-labelledby="output-title"] pre').textContent()).toBe(
      '{\n  "text": "HELLO"\n}',
    );

    await page.goto(`${ui.server.origin}/admin/jobs/${failedId}`);
    expect(await page.locator("#successor").textContent()).toMatch(
      new RegExp(`Retried by job\\s*${newJobId}\\s*COMPLETED`),
    );
    expect(await storedJob(failedId)).toEqual(before);
    await context.close();
  });

  it("supersedes a completed result with IMPROVED_PROMPT and a corrected input; the old page shows both outputs", async () => {
    const oldId = await ranJob({ text: "hello wrld" });
    const before = await storedJob(oldId);
    expect((await jobRow(oldId)).content).toEqual({ text: "HELLO WRLD" });
    const { context, page } = await signedIn();

    await page.goto(`${ui.server.origin}/admin/jobs/${oldId}`);
    const form = page.locator('form:has(input[name="kind"][value="SUPERSEDE"])');
    expect(await form.locator("legend").textContent()).toBe("Supersede this result");
    expect(
      await form
        .locator("#reasonCode option")
        .evaluateAll((os) => os.map((o) => o.getAttribute("value"))),
    ).toEqual(["", "BAD_INPUT", "IMPROVED_PROMPT", "OTHER"]);
    // Every control of the form is labelled, the corrected input box included.
    const unlabelled = await form
      .locator("input:not([type=hidden]), select, textarea")
      .evaluateAll((els) =>
        els.filter((e) => (e as HTMLInputElement).labels?.length === 0).map((e) => e.outerHTML),
      );
    expect(unlabelled).toEqual([]);
    await page.getByLabel("Reason code").selectOption("IMPROVED_PROMPT");
    await page
      .getByLabel("Reason", { exact: true })
      .fill("The source text had a typo; the corrected text reads better.");
    await page.getByLabel("Corrected input (JSON)").fill('{"text": "hello world"}');
    await page.getByRole("button", { name: "Create supersede intent" }).click();
    await page.waitForURL(/\/admin\/retry-intents\/[a-z0-9]+\?notice=supersede-intent-created$/);
    const intentId = idFromUrl(page.url(), "/admin/retry-intents/");
    expect(await page.locator("#same-version-warning").textContent()).toContain(
      "the same version that produced this output will run",
    );
    expect(await markedLines(page, "#input-change", "del")).toEqual(['  "text": "hello wrld"']);
    expect(await markedLines(page, "#input-change", "ins")).toEqual(['  "text": "hello world"']);

    await page.getByRole("link", { name: "Execute…" }).click();
    await page.waitForURL(`${ui.server.origin}/admin/retry-intents/${intentId}/execute`);
    expect(await page.locator("#will-run").textContent()).toContain(
      "The completed job and its output stay as they are",
    );
    await page.getByRole("button", { name: "Confirm: create the new job" }).click();
    await page.waitForURL(/\/admin\/jobs\/[a-z0-9]+\?notice=supersede-created$/);
    const newJobId = idFromUrl(page.url(), "/admin/jobs/");
    expect(await page.getByRole("status").first().textContent()).toContain(
      "the completed job and its output are unchanged",
    );

    await runWorker();
    expect(await jobRow(newJobId)).toEqual({
      status: "COMPLETED",
      input: { text: "hello world" },
      retry_of_job_id: oldId,
      retry_intent_id: intentId,
      content: { text: "HELLO WORLD" },
    });

    await page.goto(`${ui.server.origin}/admin/jobs/${oldId}`);
    expect((await page.locator("#successor").textContent())?.replace(/\s+/g, " ")).toContain(
      `Superseded by job ${newJobId} COMPLETED`,
    );
    const comparison = page.locator("#comparison");
    expect(await comparison.isVisible()).toBe(true);
    expect(await markedLines(page, "#comparison", "del")).toEqual(['  "text": "HELLO WRLD"']);
    expect(await markedLines(page, "#comparison", "ins")).toEqual(['  "text": "HELLO WORLD"']);
    // Side by side: two panes on one row, the old one on the left.
    const [left, right] = await comparison
      .locator(".diff-pane")
      .evaluateAll((panes) => panes.map((p) => p.getBoundingClientRect().toJSON()));
    expect(left.y).toBe(right.y);
    expect(left.x + left.width).toBeLessThanOrEqual(right.x);
    // What is marked is told by more than colour: a sign in the margin of each marked line.
    const sign = await comparison
      .locator("ins.diff-line")
      .evaluate((line) => getComputedStyle(line, "::before").content);
    expect(sign).toBe('"+"');
    expect(await page.locator('form:has(input[name="kind"][value="SUPERSEDE"])').count()).toBe(0);

    expect(await storedJob(oldId)).toEqual(before);
    await context.close();
  });
});
