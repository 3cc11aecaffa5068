/**
 * `npm run screenshots`: seeds an in-memory database with realistic data, serves the admin
 * page, signs in with a real browser and writes PNGs of the main pages to docs/screenshots/,
 * each at 1280 px wide (`admin-jobs.png`) and at 390 px, a phone's width (`admin-jobs-390.png`).
 * Needs Chromium (see chromium.ts) and nothing else: the database is an in-memory PGlite.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { connect } from "../../db/client";
import { migrate } from "../../db/migrate";
import { builtInCatalog } from "../../functions/execution/generators";
import { launchChromium } from "./chromium";
import { seedDemo } from "./demo-data";
import { serveAdmin } from "./serve";

const OUT = "docs/screenshots";

const database = await connect({ dataDir: "memory://" });
// As a deploy leaves it: the built-in generators are in the catalog.
await migrate(database, { generators: builtInCatalog() });
const demo = await seedDemo(database.db);
const server = await serveAdmin({
  db: database.db,
  sessionSecret: crypto.randomUUID() + crypto.randomUUID(),
});

/** Every page is pictured at a desktop's width, and at a phone's in a file ending in -390. */
const SHAPES = [
  { width: 1280, height: 760, suffix: "" },
  { width: 390, height: 844, suffix: "-390" },
];

const browser = await launchChromium();
try {
  mkdirSync(OUT, { recursive: true });
  /** Pictures the page, or one section of it; `fullPage` false keeps to the first screenful. */
  const write = async (page: Page, name: string, suffix: string, fullPage = true, section = "") => {
    const path = join(OUT, `${name}${suffix}.png`);
    if (section) await page.locator(section).screenshot({ path });
    else await page.screenshot({ path, fullPage });
    console.log(`wrote ${path}`);
  };

  const pages: { page: Page; suffix: string }[] = [];
  for (const { width, height, suffix } of SHAPES) {
    const context = await browser.newContext({
      viewport: { width, height },
      deviceScaleFactor: 1,
      colorScheme: "light",
    });
    const page = await context.newPage();
    await page.goto(`${server.origin}/admin/login`);
    await write(page, "admin-sign-in", suffix);
    await page.getByLabel("API token").fill(demo.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${server.origin}/admin`);
    pages.push({ page, suffix });
  }

  // [name, path, the one section to show when the whole page would say less]
  const shots: [string, string, string?][] = [
    ["admin-jobs", "/admin"],
    ["admin-job", `/admin/jobs/${demo.chainMiddleJobId}`],
    ["admin-retry-intent", `/admin/retry-intents/${demo.pendingIntentId}`],
    ["admin-audit", "/admin/audit"],
    ["admin-batch-preview", demo.previewPath],
    ["admin-batch", `/admin/retry-batches/${demo.batchId}`],
    ["admin-job-budget", `/admin/jobs/${demo.overBudgetJobId}`, "#retry"],
    ["admin-signals", "/admin/signals"],
    ["admin-supersede", `/admin/jobs/${demo.supersededJobId}`],
    ["admin-corrected-input", `/admin/retry-intents/${demo.correctedIntentId}`],
  ];
  for (const { page, suffix } of pages) {
    for (const [name, path, section] of shots) {
      await page.goto(server.origin + path);
      // The audit log is as long as the page size; its first screenful shows what it is.
      await write(page, name, suffix, name !== "admin-audit", section);
    }
  }

  // Last, since every page names a paused generator from then on: the brake, pulled from the page.
  const [desktop] = pages;
  if (!desktop) throw new Error("no page to pull the brake from");
  await desktop.page.goto(`${server.origin}/admin/generators/http/pause`);
  await desktop.page
    .getByLabel("Reason for pausing")
    .fill("Upstream answers 502 since 14:05; holding its jobs until the provider confirms a fix.");
  await desktop.page.getByRole("button", { name: "Confirm: pause http" }).click();
  await desktop.page.waitForURL(`${server.origin}/admin/generators?notice=generator-paused`);
  for (const { page, suffix } of pages) {
    await page.goto(`${server.origin}/admin/generators?notice=generator-paused`);
    await write(page, "admin-generators", suffix);
  }
} finally {
  await browser.close();
  await server.close();
  await database.close();
}
