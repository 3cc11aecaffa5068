/// <reference lib="dom" />
/**
 * The generators page and its brake in a real Chromium against real PostgreSQL: pausing `http`
 * and resuming it with the keyboard alone, the banner every page shows meanwhile, and the page
 * and the banner on a 390 px wide screen.
 */
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { pauseGenerator, resumeGenerator } from "../../functions/domain/generators";
import { admin } from "../helpers/fixtures";
import { adminBrowser } from "./admin-browser";

const ui = adminBrowser();

async function newPage(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await ui.newContext(options);
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

const focusedText = (page: Page) =>
  page.evaluate(() => document.activeElement?.textContent?.replace(/\s+/g, " ").trim());

async function signInByKeyboard(page: Page) {
  await page.goto(`${ui.server.origin}/admin/login`);
  await tabTo(page, "#token");
  await page.keyboard.type(ui.adminSecret);
  await page.keyboard.press("Enter");
  await page.waitForURL(`${ui.server.origin}/admin`);
}

const pausedRow = async (name: string) =>
  (
    await ui.t.raw.query(
      "SELECT paused_by, pause_reason, paused_at IS NOT NULL AS paused FROM generators WHERE name = $1",
      [name],
    )
  ).rows[0];

const banner = (page: Page) => page.getByRole("status", { name: "Paused generators" });

describe("the generators page in Chromium", () => {
  it("pauses http and resumes it with the keyboard alone; every page names the pause meanwhile", async () => {
    const { context, page } = await newPage();
    await signInByKeyboard(page);

    await tabTo(page, 'nav a[href="/admin/generators"]');
    await page.keyboard.press("Enter");
    await page.waitForURL(`${ui.server.origin}/admin/generators`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Generators");
    expect(await banner(page).count()).toBe(0);

    await tabTo(page, 'a[href="/admin/generators/http/pause"]');
    // Its accessible name says which generator it pauses.
    expect(await focusedText(page)).toBe("Pause http…");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${ui.server.origin}/admin/generators/http/pause`);
    expect(await page.getByText("This will pause generator http.").isVisible()).toBe(true);
    expect((await pausedRow("http")).paused).toBe(false);

    await tabTo(page, "#brake-reasonText");
    await page.keyboard.type("upstream API answers 503; holding its jobs until it recovers");
    await page.keyboard.press("Tab");
    expect(await focusedText(page)).toBe("Confirm: pause http");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${ui.server.origin}/admin/generators?notice=generator-paused`);

    expect(await pausedRow("http")).toMatchObject({
      paused: true,
      paused_by: ui.adminActor,
      pause_reason: "upstream API answers 503; holding its jobs until it recovers",
    });
    expect(await page.getByRole("status").filter({ hasText: "Generator paused." }).count()).toBe(1);

    // Another page names the pause: who, when, why, and where to resume it.
    await tabTo(page, 'nav a[href="/admin/signals"]');
    await page.keyboard.press("Enter");
    await page.waitForURL(`${ui.server.origin}/admin/signals`);
    expect(await banner(page).isVisible()).toBe(true);
    const said = (await banner(page).textContent())?.replace(/\s+/g, " ") ?? "";
    expect(said).toMatch(/Paused: http — by alice token, (just now|\d+ min ago)/);
    expect(said).toContain("upstream API answers 503; holding its jobs until it recovers");

    await tabTo(page, '.paused-banner a[href="/admin/generators"]');
    await page.keyboard.press("Enter");
    await page.waitForURL(`${ui.server.origin}/admin/generators`);
    await tabTo(page, 'a[href="/admin/generators/http/resume"]');
    expect(await focusedText(page)).toBe("Resume http…");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${ui.server.origin}/admin/generators/http/resume`);
    expect(await page.getByText("This will resume generator http.").isVisible()).toBe(true);
    await tabTo(page, "#brake-reasonText");
    await page.keyboard.type("upstream recovered at 11:05");
    await tabTo(page, 'form[action="/admin/generators/http/resume"] button[type="submit"]');
    await page.keyboard.press("Enter");
    await page.waitForURL(`${ui.server.origin}/admin/generators?notice=generator-resumed`);

    expect(await pausedRow("http")).toMatchObject({
      paused: false,
      paused_by: null,
      pause_reason: null,
    });
    expect(await banner(page).count()).toBe(0);
    await page.goto(`${ui.server.origin}/admin`);
    expect(await banner(page).count()).toBe(0);

    const { rows } = await ui.t.raw.query(
      `SELECT type, actor, data->>'reasonText' AS reason FROM audit_events
       WHERE subject_type = 'generator' AND subject_id = 'http'
         AND type IN ('GENERATOR_PAUSED', 'GENERATOR_RESUMED') ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        type: "GENERATOR_PAUSED",
        actor: ui.adminActor,
        reason: "upstream API answers 503; holding its jobs until it recovers",
      },
      { type: "GENERATOR_RESUMED", actor: ui.adminActor, reason: "upstream recovered at 11:05" },
    ]);
    await context.close();
  });

  it("labels every control of its pages and posts only the brake's forms", async () => {
    const { context, page } = await newPage();
    await signInByKeyboard(page);
    for (const path of ["/admin/generators", "/admin/generators/demo/pause"]) {
      await page.goto(ui.server.origin + path);
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
      const actions = await page
        .locator('form[method="post"]')
        .evaluateAll((forms) => forms.map((f) => f.getAttribute("action")));
      expect(
        actions.filter(
          (a) => a !== "/admin/logout" && !/^\/admin\/generators\/[a-z]+\/pause$/.test(a ?? ""),
        ),
        path,
      ).toEqual([]);
    }
    await context.close();
  });

  it("fits a 390 px wide screen, banner and table included", async () => {
    // A long reason: the banner shows its start, the page all of it, both wrapped.
    await pauseGenerator(
      ui.t.db,
      admin,
      "demo",
      `${"a long account of what went wrong ".repeat(20)}end`,
    );
    const { context, page } = await newPage({ viewport: { width: 390, height: 844 } });
    try {
      await signInByKeyboard(page);
      for (const path of ["/admin/generators", "/admin/generators/demo/resume", "/admin/signals"]) {
        await page.goto(ui.server.origin + path);
        expect(await banner(page).isVisible(), path).toBe(true);
        const box = await banner(page).boundingBox();
        expect(box && box.x >= 0 && box.x + box.width <= 390, path).toBe(true);
        // Wide tables scroll inside their panel; the page itself never scrolls sideways.
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        // What sticks out, if anything, for the failure message.
        const wide = await page.evaluate(() =>
          Array.from(document.querySelectorAll("body *"))
            .filter((e) => e.getBoundingClientRect().right > 391 && !e.closest(".table-wrap table"))
            .map(
              (e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`,
            )
            .slice(0, 15),
        );
        expect(width, `${path}: ${wide.join(" | ")}`).toBeLessThanOrEqual(390);
        const nav = page.getByRole("navigation", { name: "Sections" });
        expect(await nav.getByRole("link", { name: "Generators" }).isVisible(), path).toBe(true);
      }
    } finally {
      await resumeGenerator(ui.t.db, admin, "demo", "seen at 390 px");
      await context.close();
    }
  });
});
