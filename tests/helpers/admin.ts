import type { JWTVerifyGetKey } from "jose";
import type { ApiTokenRole } from "../../db/schema";
import type { Db } from "../../db/types";
import { loadConfig } from "../../functions/config/api";
import { createApiToken } from "../../functions/domain/api-tokens";
import { cloudflareClientAddress } from "../../functions/http/caller";
import { createServer } from "../../functions/server";

export const SESSION_SECRET = "test-session-secret-that-is-long-enough-0123456789";

/**
 * The whole server as the entry points build it, for its admin page: `env` adds settings
 * (REQUIRE_DISTINCT_EXECUTOR, ACCESS_*) to a session secret; `accessKeys` stands in for the
 * Access team's key server.
 */
export function adminApp(options: {
  db: Db;
  env?: Record<string, string>;
  accessKeys?: JWTVerifyGetKey;
}): Requestable {
  return createServer({
    db: options.db,
    config: loadConfig({ SESSION_SECRET, ...options.env }),
    clientAddress: cloudflareClientAddress,
    accessKeys: options.accessKeys,
  });
}

/** Anything answering `app.request()`: the server, or an app a test builds itself. */
export interface Requestable {
  request(input: string, init?: RequestInit): Response | Promise<Response>;
}

export async function token(db: Db, role: ApiTokenRole, name = `${role}-${Math.random()}`) {
  const created = await createApiToken(db, { actor: "system:test" }, { name, role });
  return { secret: created.token, id: created.record.id, actor: `token:${created.record.id}` };
}

/** The hidden form token of the first form on a page. */
export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error("the page has no form token");
  return match[1];
}

/**
 * A browser stand-in for `app.request()`: keeps the session cookie and sends form posts
 * the way a same-origin page does (Origin header, form encoding, the page's form token).
 */
export class AdminClient {
  cookie = "";
  constructor(
    readonly app: Requestable,
    readonly origin = "http://localhost",
    /** Sent with every request, as a front door (Cloudflare Access) would add them. */
    readonly always: Record<string, string> = {},
  ) {}

  request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(this.always)) {
      if (!headers.has(name)) headers.set(name, value);
    }
    if (this.cookie && !headers.has("cookie")) headers.set("cookie", this.cookie);
    if (!headers.has("user-agent")) headers.set("user-agent", "admin-test-client");
    return Promise.resolve(this.app.request(`${this.origin}${path}`, { ...init, headers }));
  }

  async page(path: string): Promise<{ res: Response; html: string }> {
    const res = await this.request(path);
    return { res, html: await res.text() };
  }

  /** Posts a form; `csrf` is taken from `from` (a page path) unless given, `origin` can be faked. */
  async post(
    path: string,
    fields: Record<string, string>,
    options: { from?: string; csrf?: string | null; origin?: string | null } = {},
  ): Promise<Response> {
    const body = new URLSearchParams(fields);
    if (options.csrf !== null) {
      const csrf = options.csrf ?? csrfOf((await this.page(options.from ?? "/admin")).html);
      body.set("_csrf", csrf);
    }
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
    };
    const origin = options.origin === undefined ? this.origin : options.origin;
    if (origin !== null) headers.origin = origin;
    return this.request(path, { method: "POST", headers, body: body.toString() });
  }

  async signIn(secret: string): Promise<Response> {
    const res = await this.post("/admin/login", { token: secret }, { csrf: null });
    const setCookie = res.headers.get("set-cookie");
    if (setCookie) this.cookie = setCookie.split(";")[0] ?? "";
    return res;
  }
}
