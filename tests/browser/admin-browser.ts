/**
 * What a browser test of the admin page starts from: Chromium, a fresh database with an admin
 * token ("alice"), and the admin page served on it, all made before the file's tests and closed
 * after them. The fields are filled in by then. A browser that cannot be launched is not a
 * skip: every context asked for fails with the reason.
 */
import type { Browser, BrowserContext, BrowserContextOptions } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { SESSION_SECRET, token } from "../helpers/admin";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { launchChromium } from "./chromium";
import { type Served, serveAdmin } from "./serve";

export interface AdminBrowser {
  t: TestDatabase;
  server: Served;
  /** The admin token's secret and the actor it signs in as. */
  adminSecret: string;
  adminActor: string;
  /** A new browser context: the browser's failure to launch, if it did fail. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
}

export function adminBrowser(): AdminBrowser {
  let browser: Browser | undefined;
  let noBrowser: unknown;
  const ui = {
    newContext: async (options?: BrowserContextOptions) => {
      if (!browser) throw noBrowser;
      return browser.newContext(options);
    },
  } as AdminBrowser;
  beforeAll(async () => {
    try {
      browser = await launchChromium();
    } catch (error) {
      noBrowser = error;
    }
    ui.t = await freshDatabase();
    const alice = await token(ui.t.db, "admin", "alice");
    ui.adminSecret = alice.secret;
    ui.adminActor = alice.actor;
    ui.server = await serveAdmin({ db: ui.t.db, sessionSecret: SESSION_SECRET });
  });
  afterAll(async () => {
    await browser?.close();
    await ui.server?.close();
  });
  return ui;
}
