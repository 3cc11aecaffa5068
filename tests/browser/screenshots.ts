/**
 * `npm run screenshots`: seeds an in-memory database with realistic data, serves the admin
 * page, signs in with a real browser and writes PNGs of the main pages to docs/screenshots/.
 * Needs Chromium (see chromium.ts) and nothing else: the database is an in-memory PGlite.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
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
const browser = await launchChromium();
try {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 760 },
    deviceScaleFactor: 1,
    colorScheme: "light",
  });
  const page = await context.newPage();
  await page.goto(`${server.origin}/admin/login`);
  await page.getByLabel("API token").fill(demo.token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${server.origin}/admin`);

  mkdirSync(OUT, { recursive: true });
  // [file, path, the one section to show when the whole page would say less]
  const shots: [string, string, string?][] = [
    ["admin-jobs.png", "/admin"],
    ["admin-job.png", `/admin/jobs/${demo.chainMiddleJobId}`],
    ["admin-retry-intent.png", `/admin/retry-intents/${demo.pendingIntentId}`],
    ["admin-audit.png", "/admin/audit"],
    ["admin-batch-preview.png", demo.previewPath],
    ["admin-batch.png", `/admin/retry-batches/${demo.batchId}`],
    ["admin-job-budget.png", `/admin/jobs/${demo.overBudgetJobId}`, "#retry"],
    ["admin-signals.png", "/admin/signals"],
    ["admin-supersede.png", `/admin/jobs/${demo.supersededJobId}`],
    ["admin-corrected-input.png", `/admin/retry-intents/${demo.correctedIntentId}`],
  ];
  for (const [file, path, section] of shots) {
    await page.goto(server.origin + path);
    if (section) {
      await page.locator(section).screenshot({ path: join(OUT, file) });
    } else {
      // The audit log is as long as the page size; its first screenful shows what it is.
      await page.screenshot({ path: join(OUT, file), fullPage: file !== "admin-audit.png" });
    }
    console.log(`wrote ${join(OUT, file)}`);
  }

  // Last, since every page names a paused generator from then on: the brake, pulled from the page.
  await page.goto(`${server.origin}/admin/generators/http/pause`);
  await page
    .getByLabel("Reason for pausing")
    .fill("Upstream answers 502 since 14:05; holding its jobs until the provider confirms a fix.");
  await page.getByRole("button", { name: "Confirm: pause http" }).click();
  await page.waitForURL(`${server.origin}/admin/generators?notice=generator-paused`);
  await page.screenshot({ path: join(OUT, "admin-generators.png"), fullPage: true });
  console.log(`wrote ${join(OUT, "admin-generators.png")}`);
} finally {
  await browser.close();
  await server.close();
  await database.close();
}
