/// <reference lib="dom" />
/**
 * Every admin page in a real Chromium against real PostgreSQL, at a desktop's width (1280 px)
 * and a phone's (390 px, light and dark): the page never scrolls sideways, and axe-core finds
 * no serious or critical accessibility violation on it. Then a retry and a batch, each from its
 * first page to its last at 390 px with the keyboard alone, by way of the skip links.
 *
 * axe-core is a test tool: the test reads its source from node_modules and evaluates it in the
 * page (the page's Content-Security-Policy allows no script of its own, and needs none).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AxeResults } from "axe-core";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pauseGenerator } from "../../functions/domain/generators";
import { submitJob } from "../../functions/domain/jobs";
import { createRetryIntent, listRetryIntentsForJob } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { SESSION_SECRET, token } from "../helpers/admin";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import {
  admin,
  completeJob,
  expiredIntent,
  failedJob,
  failedJobOf,
  failJob,
  submitter,
} from "../helpers/fixtures";
import { launchChromium } from "./chromium";
import { type Demo, seedDemo } from "./demo-data";
import { type Served, serveAdmin } from "./serve";

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
  "utf8",
);

let t: TestDatabase;
let browser: Browser;
let server: Served;
let viewerSecret: string;
let seed: Seed;
/** Why there is no browser, if there is none: every test fails with it rather than skipping. */
let noBrowser: unknown;

/** What the pages are about, beyond the demo data: values too long for a phone, and refusals. */
interface Seed extends Demo {
  /** A failed job, retryable, with an input of one very long word and a very long error code. */
  longJobId: string;
  /** A completed job whose output is longer than its box. */
  completedJobId: string;
  consumedIntentId: string;
  expiredIntentId: string;
}

beforeAll(async () => {
  try {
    browser = await launchChromium();
  } catch (error) {
    noBrowser = error;
  }
  t = await freshDatabase();
  const demo = await seedDemo(t.db);
  viewerSecret = (await token(t.db, "viewer", "auditor")).secret;

  const long = await submitJob(t.db, submitter, {
    generator: "demo",
    input: { text: "x".repeat(4000), source: `https://example.com/${"segment/".repeat(60)}` },
  });
  await failJob(t.db, long.id, `UPSTREAM_REFUSED_${"THE_DOCUMENT_".repeat(12)}`);
  const submitted = await submitJob(t.db, submitter, { generator: "demo", input: { text: "ok" } });
  const lines = Object.fromEntries(
    Array.from({ length: 40 }, (_, i) => [`line${i}`, `paragraph ${i} of the summary`]),
  );
  await completeJob(t.db, submitted.id, lines);
  const consumed = await createRetryIntent(t.db, admin, {
    sourceJobId: (await failedJob(t.db, { text: "consumed" })).id,
    reasonCode: "OTHER",
    reasonText: "executed already",
  });
  await createRetryJobFromIntent(t.db, admin, consumed.id);
  // A paused generator puts a banner on every page; its reason has a word no phone is wide for.
  await catalogue(t.db, "brake");
  await pauseGenerator(
    t.db,
    admin,
    "brake",
    `Upstream answers 502 since 14:05, see https://status.example.com/incidents/${"a1b2c3".repeat(20)}`,
  );
  seed = {
    ...demo,
    longJobId: long.id,
    completedJobId: submitted.id,
    consumedIntentId: consumed.id,
    expiredIntentId: (await expiredIntent(t.db)).intentId,
  };
  server = await serveAdmin({ db: t.db, sessionSecret: SESSION_SECRET });
});

afterAll(async () => {
  for (const context of contexts.values()) await context.close();
  await browser?.close();
  await server?.close();
});

type Who = "admin" | "viewer" | "nobody";

interface Shape {
  width: number;
  scheme: "light" | "dark";
}

const SHAPES: Shape[] = [
  { width: 1280, scheme: "light" },
  { width: 390, scheme: "light" },
  { width: 390, scheme: "dark" },
];

/** One signed-in browser context per caller and shape, shared by the pages' tests. */
const contexts = new Map<string, BrowserContext>();

async function contextFor(who: Who, shape: Shape): Promise<BrowserContext> {
  if (noBrowser) throw noBrowser;
  const key = `${who} ${shape.width} ${shape.scheme}`;
  const known = contexts.get(key);
  if (known) return known;
  const context = await browser.newContext({
    viewport: { width: shape.width, height: 844 },
    colorScheme: shape.scheme,
  });
  contexts.set(key, context);
  if (who !== "nobody") {
    const page = await context.newPage();
    await page.goto(`${server.origin}/admin/login`);
    await page.getByLabel("API token").fill(who === "admin" ? seed.token : viewerSecret);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${server.origin}/admin`);
    await page.close();
  }
  return context;
}

interface AdminPage {
  name: string;
  who: Who;
  /** Opens the page: its address, or the steps that lead to it. */
  open: string | ((page: Page) => Promise<unknown>);
}

const goto = (path: (s: Seed) => string) => (page: Page) => page.goto(server.origin + path(seed));

const PAGES: AdminPage[] = [
  { name: "sign-in", who: "nobody", open: "/admin/login" },
  { name: "sign-in, signed out", who: "nobody", open: "/admin/login?signedOut=1" },
  {
    name: "sign-in, token refused",
    who: "nobody",
    open: async (page) => {
      await page.goto(`${server.origin}/admin/login`);
      await page.getByLabel("API token").fill("not-a-token");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").waitFor();
    },
  },
  { name: "failed jobs", who: "admin", open: "/admin" },
  { name: "pending jobs", who: "admin", open: "/admin?status=PENDING" },
  { name: "running jobs", who: "admin", open: "/admin?status=RUNNING" },
  { name: "completed jobs", who: "admin", open: "/admin?status=COMPLETED" },
  { name: "all jobs", who: "admin", open: "/admin?status=all" },
  { name: "failed jobs of a generator", who: "admin", open: "/admin?generator=http" },
  {
    name: "job, failed, long values",
    who: "admin",
    open: goto((s) => `/admin/jobs/${s.longJobId}`),
  },
  {
    name: "job, failed, already retried",
    who: "admin",
    open: goto((s) => `/admin/jobs/${s.chainMiddleJobId}`),
  },
  {
    name: "job, failed, over its budget",
    who: "admin",
    open: goto((s) => `/admin/jobs/${s.overBudgetJobId}`),
  },
  {
    name: "job, completed, with output",
    who: "admin",
    open: goto((s) => `/admin/jobs/${s.completedJobId}`),
  },
  {
    name: "job, completed, superseded",
    who: "admin",
    open: goto((s) => `/admin/jobs/${s.supersededJobId}`),
  },
  {
    name: "job, as a viewer",
    who: "viewer",
    open: goto((s) => `/admin/jobs/${s.longJobId}`),
  },
  {
    name: "job intents",
    who: "admin",
    open: goto((s) => `/admin/jobs/${s.chainMiddleJobId}/retry-intents`),
  },
  { name: "pending intents", who: "admin", open: "/admin/retry-intents" },
  { name: "all intents", who: "admin", open: "/admin/retry-intents?status=all" },
  {
    name: "intent, pending",
    who: "admin",
    open: goto((s) => `/admin/retry-intents/${s.pendingIntentId}`),
  },
  {
    name: "intent, corrected input",
    who: "admin",
    open: goto((s) => `/admin/retry-intents/${s.correctedIntentId}`),
  },
  {
    name: "intent, expired",
    who: "admin",
    open: goto((s) => `/admin/retry-intents/${s.expiredIntentId}`),
  },
  {
    name: "execute confirmation",
    who: "admin",
    open: goto((s) => `/admin/retry-intents/${s.pendingIntentId}/execute`),
  },
  {
    name: "execute confirmation, corrected input",
    who: "admin",
    open: goto((s) => `/admin/retry-intents/${s.correctedIntentId}/execute`),
  },
  {
    name: "execute refused, intent consumed",
    who: "admin",
    open: goto((s) => `/admin/retry-intents/${s.consumedIntentId}/execute`),
  },
  { name: "batches", who: "admin", open: "/admin/retry-batches" },
  { name: "batch preview, new", who: "admin", open: "/admin/retry-batches/new" },
  { name: "batch preview, filtered", who: "admin", open: goto((s) => s.previewPath) },
  { name: "batch", who: "admin", open: goto((s) => `/admin/retry-batches/${s.batchId}`) },
  {
    name: "batch execute confirmation",
    who: "admin",
    open: goto((s) => `/admin/retry-batches/${s.batchId}/execute`),
  },
  { name: "audit", who: "admin", open: "/admin/audit" },
  {
    name: "audit of one subject",
    who: "admin",
    open: goto((s) => `/admin/audit?subjectId=${s.longJobId}`),
  },
  { name: "signals", who: "admin", open: "/admin/signals" },
  { name: "generators", who: "admin", open: "/admin/generators" },
  { name: "pause a generator", who: "admin", open: "/admin/generators/http/pause" },
  { name: "resume a generator", who: "admin", open: "/admin/generators/brake/resume" },
  { name: "not found", who: "admin", open: "/admin/nowhere" },
  { name: "job not found", who: "admin", open: "/admin/jobs/nosuchjob" },
  {
    name: "admins only",
    who: "viewer",
    open: goto((s) => `/admin/retry-intents/${s.pendingIntentId}/execute`),
  },
  {
    name: "form expired",
    who: "admin",
    open: async (page) => {
      // A form whose token is not this session's, as one kept open across sessions would be.
      await page.goto(`${server.origin}/admin/jobs/${seed.longJobId}`);
      await page.evaluate(() => {
        const form = document.querySelector<HTMLFormElement>("form:has(#reasonCode)");
        const field = form?.querySelector<HTMLInputElement>('input[name="_csrf"]');
        if (!form || !field) throw new Error("no retry form");
        field.value = "stale";
        form.submit();
      });
      await page.getByRole("heading", { name: "This form has expired" }).waitFor();
    },
  },
];

/** How far the page scrolls sideways, and the elements that stick out past the viewport. */
function sideways(page: Page) {
  return page.evaluate(() => {
    const overflow = (document.scrollingElement?.scrollWidth ?? 0) - innerWidth;
    const culprits = Array.from(document.querySelectorAll("body *"))
      .filter((el) => el.getBoundingClientRect().right > innerWidth + 0.5)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${Array.from(el.classList).join(".")}`);
    return { overflow, culprits };
  });
}

/**
 * The tables wider than their box, which would have to scroll sideways inside the page: each
 * named by the heading of the section it is in, or the id of what holds it.
 */
function tablesScrolling(page: Page) {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll("table"))
      .filter((table) => table.scrollWidth > (table.parentElement?.clientWidth ?? innerWidth) + 0.5)
      .map(
        (table) =>
          table.closest("section")?.querySelector("h1, h2")?.textContent ??
          table.closest("[id]")?.id ??
          "a table",
      ),
  );
}

/** The serious and critical axe-core violations on the page, each with its rule and nodes. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document): Promise<AxeResults> } }).axe;
    const results = await axe.run(document);
    return results.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({
        rule: `${v.impact} ${v.id}: ${v.help}`,
        nodes: v.nodes.map((n) => `${n.target.join(" ")} (${n.failureSummary ?? ""})`),
      }));
  });
  return violations.map((v) => `${v.rule}\n    ${v.nodes.join("\n    ")}`);
}

for (const shape of SHAPES) {
  describe(`every admin page at ${shape.width} px, ${shape.scheme}`, () => {
    for (const adminPage of PAGES) {
      it(`${adminPage.name}: no sideways scrolling, no serious or critical axe violation`, async () => {
        const context = await contextFor(adminPage.who, shape);
        const page = await context.newPage();
        try {
          const { open } = adminPage;
          if (typeof open === "string") await page.goto(server.origin + open);
          else await open(page);
          // The page is the one asked for, not the sign-in page it would be without a session.
          if (adminPage.who !== "nobody")
            expect(new URL(page.url()).pathname).not.toBe("/admin/login");

          const { overflow, culprits } = await sideways(page);
          expect(
            overflow,
            `scrolls sideways by ${overflow} px; sticking out: ${culprits}`,
          ).toBeLessThanOrEqual(0);
          expect(await tablesScrolling(page), "tables that scroll sideways").toEqual([]);
          expect(await axeViolations(page)).toEqual([]);
        } finally {
          await page.close();
        }
      });
    }
  });
}

/** What has the keyboard focus: its id, its text, and whether all of it is on the screen. */
function focused(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const rect = el?.getBoundingClientRect();
    return {
      id: el?.id ?? "",
      text: el?.textContent?.trim() ?? "",
      onScreen: rect ? rect.left >= 0 && rect.right <= innerWidth && rect.width > 0 : false,
    };
  });
}

/**
 * Presses Tab (or `key`, Shift+Tab) until the focus is on `selector`, as a keyboard user would;
 * each stop must be on screen. Returns how many presses it took.
 */
async function tabTo(page: Page, selector: string, limit = 60, key = "Tab"): Promise<number> {
  for (let presses = 1; presses <= limit; presses++) {
    await page.keyboard.press(key);
    const now = await focused(page);
    expect(now.onScreen, `focus off screen on "${now.text}"`).toBe(true);
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) {
      return presses;
    }
  }
  throw new Error(`${key} never reached ${selector}`);
}

/** From the top of a page, Tab to the skip link called `label` and follow it. */
async function skipTo(page: Page, label: string): Promise<void> {
  for (let presses = 0; presses < 4; presses++) {
    await page.keyboard.press("Tab");
    const now = await focused(page);
    if (now.text === label) {
      expect(now.onScreen, `skip link "${label}" is on screen when focused`).toBe(true);
      await page.keyboard.press("Enter");
      return;
    }
  }
  throw new Error(`no skip link "${label}" among the first stops`);
}

async function phone(): Promise<{ context: BrowserContext; page: Page }> {
  if (noBrowser) throw noBrowser;
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${server.origin}/admin/login`);
  await tabTo(page, "#token");
  await page.keyboard.type(seed.token);
  await page.keyboard.press("Enter");
  await page.waitForURL(`${server.origin}/admin`);
  return { context, page };
}

describe("with the keyboard alone at 390 px", () => {
  it("retries a failed job: the skip links lead to the form, the decision and the confirmation", async () => {
    const job = await failedJob(t.db, { text: "on a phone" });
    const { context, page } = await phone();
    await page.goto(`${server.origin}/admin/jobs/${job.id}`);

    await skipTo(page, "Skip to the retry form");
    expect((await focused(page)).id).toBe("reasonCode");
    await page.keyboard.press("I"); // type-ahead: the first reason starting with I
    expect(await page.locator("#reasonCode").inputValue()).toBe("IMPROVED_PROMPT");
    await page.keyboard.press("Tab");
    expect((await focused(page)).id).toBe("reasonText");
    await page.keyboard.type("prompt v9 reads long documents");
    await tabTo(page, 'form:has(#reasonCode) button[type="submit"]');
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/admin\/retry-intents\/[a-z0-9]+\?notice=intent-created$/);

    await skipTo(page, "Skip to the decision");
    // The decision's first sentence links the job; its next stop is the action.
    expect(await tabTo(page, 'a[href$="/execute"]')).toBeLessThanOrEqual(2);
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/execute$/);

    await skipTo(page, "Skip to the confirmation");
    await tabTo(page, 'form[action$="/execute"] button[type="submit"]', 5);
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/admin\/jobs\/[a-z0-9]+\?notice=retry-created$/);

    const [intent] = await listRetryIntentsForJob(t.db, job.id);
    expect(intent).toMatchObject({
      status: "CONSUMED",
      reasonCode: "IMPROVED_PROMPT",
      reasonText: "prompt v9 reads long documents",
    });
    await context.close();
  });

  it("retries a batch: from the failed list to the preview, the approval and the execution", async () => {
    for (let i = 0; i < 3; i++) await failedJobOf(t.db, "phone", "HTTP_TIMEOUT");
    const { context, page } = await phone();
    await page.goto(`${server.origin}/admin?generator=phone`);

    await skipTo(page, "Skip to the jobs");
    expect(await tabTo(page, 'a[href^="/admin/jobs/"]')).toBe(1);
    // The offer to retry them all stands above the list: back up to it.
    await tabTo(page, "form.batch-offer button", 60, "Shift+Tab");
    expect((await focused(page)).text).toMatch(/\b3 jobs/);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${server.origin}/admin/retry-batches/new?generator=phone`);

    await skipTo(page, "Skip to the approval");
    expect((await focused(page)).id).toBe("batch-reasonCode");
    await page.keyboard.press("T"); // type-ahead: TRANSIENT_FAILURE
    expect(await page.locator("#batch-reasonCode").inputValue()).toBe("TRANSIENT_FAILURE");
    await page.keyboard.press("Tab");
    await page.keyboard.type("provider timeouts, resolved at 10:20");
    await tabTo(page, 'form:has(#batch-reasonCode) button[type="submit"]');
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/admin\/retry-batches\/[a-z0-9]+\?notice=batch-created$/);
    const batchId = new URL(page.url()).pathname.split("/")[3] ?? "";

    await skipTo(page, "Skip to the decision");
    await tabTo(page, 'a[href$="/execute"]', 3);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${server.origin}/admin/retry-batches/${batchId}/execute`);

    await skipTo(page, "Skip to the confirmation");
    expect(await tabTo(page, 'form[action$="/execute"] button[type="submit"]')).toBe(1);
    expect((await focused(page)).text).toBe("Confirm: create 3 retry jobs");
    await page.keyboard.press("Space");
    await page.waitForURL(`${server.origin}/admin/retry-batches/${batchId}?notice=batch-executed`);

    const { rows } = await t.raw.query(
      `SELECT count(*)::int AS n FROM regeneration_jobs j
       JOIN retry_intents i ON i.id = j.retry_intent_id WHERE i.batch_id = $1`,
      [batchId],
    );
    expect(rows[0].n).toBe(3);
    await context.close();
  });
});
