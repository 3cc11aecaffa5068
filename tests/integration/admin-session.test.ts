/**
 * The admin page's doors: sign-in by token or Access identity, sessions, roles, CSRF defences
 * and security headers, checked through `app.request()` against real PostgreSQL.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { revokeApiToken } from "../../functions/domain/api-tokens";
import { listAudit } from "../../functions/domain/audit";
import { listRetryIntentsForJob } from "../../functions/domain/retry-intents";
import { createAdminApp } from "../../web/admin-app";
import { accessTeam } from "../helpers/access";
import { AdminClient, adminApp, csrfOf, token } from "../helpers/admin";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { failedJob } from "../helpers/fixtures";

let t: TestDatabase;
let adminToken: Awaited<ReturnType<typeof token>>;
beforeAll(async () => {
  t = await freshDatabase();
  adminToken = await token(t.db, "admin", "alice");
});

interface SessionRow {
  id: string;
  token_id: string;
  ended_at: Date | null;
  /** Its lifetime as granted at sign-in. */
  hours: number;
}

/** The `admin_sessions` row the client's cookie names (or `id`, once the cookie is gone). */
async function sessionOf(client: AdminClient, id?: string): Promise<SessionRow> {
  const { rows } = await t.raw.query<SessionRow>(
    `SELECT id, token_id, ended_at,
            round(extract(epoch FROM expires_at - created_at) / 3600)::int AS hours
     FROM admin_sessions WHERE id = $1 OR ($1 IS NULL AND position(id IN $2) > 0)`,
    [id ?? null, decodeURIComponent(client.cookie)],
  );
  if (rows.length !== 1) throw new Error(`expected one session, found ${rows.length}`);
  return rows[0] as SessionRow;
}

const auditCount = async (): Promise<number> =>
  (await t.raw.query("SELECT count(*)::int AS n FROM audit_events")).rows[0].n;

/** The refusal counts of one address, as the hour's rows hold them. */
async function refusals(ip: string) {
  const { rows } = await t.raw.query(
    "SELECT reason, sum(count)::int AS count, max(last_path) AS last_path FROM auth_refusals WHERE ip = $1 GROUP BY reason ORDER BY reason",
    [ip],
  );
  return rows;
}

function cookieAttributes(setCookie: string | null): string[] {
  return (setCookie ?? "")
    .split(";")
    .slice(1)
    .map((part) => part.trim().toLowerCase());
}

describe("sign-in with an API token", () => {
  it("sends an anonymous visitor to /admin/login and back to the page asked for", async () => {
    const client = new AdminClient(adminApp({ db: t.db }));
    const res = await client.request("/admin/audit?type=JOB_FAILED");
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("location") ?? "", "http://localhost");
    expect(location.pathname).toBe("/admin/login");
    expect(location.searchParams.get("next")).toBe("/admin/audit?type=JOB_FAILED");

    const login = await client.page(location.pathname + location.search);
    expect(login.res.status).toBe(200);
    expect(login.html).toContain('<label for="token">API token</label>');
    expect(login.html).toMatch(/<input[^>]*id="token"[^>]*name="token"[^>]*type="password"/);

    const signedIn = await client.post(
      "/admin/login",
      { token: adminToken.secret, next: "/admin/audit?type=JOB_FAILED" },
      { csrf: null },
    );
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get("location")).toBe("/admin/audit?type=JOB_FAILED");
  });

  it("starts a session in a signed cookie: HttpOnly, SameSite=Strict, Path=/admin, bounded, Secure only over https", async () => {
    const client = new AdminClient(adminApp({ db: t.db }));
    const res = await client.signIn(adminToken.secret);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin");
    const attributes = cookieAttributes(res.headers.get("set-cookie"));
    expect(attributes).toEqual(
      expect.arrayContaining(["httponly", "samesite=strict", "path=/admin", "max-age=28800"]),
    );
    expect(attributes).not.toContain("secure");
    expect(client.cookie).toMatch(/^regent_admin=.+/);
    // The cookie names a session kept on the server, signed; never the token or its id.
    const session = await sessionOf(client);
    expect(session).toMatchObject({ token_id: adminToken.id, ended_at: null, hours: 8 });
    expect(decodeURIComponent(client.cookie)).not.toContain(adminToken.secret);
    expect(decodeURIComponent(client.cookie)).not.toContain(adminToken.id);

    const page = await client.page("/admin");
    expect(page.res.status).toBe(200);
    expect(page.html).toContain("alice");

    const https = new AdminClient(adminApp({ db: t.db }), "https://admin.example");
    const secure = await https.signIn(adminToken.secret);
    expect(cookieAttributes(secure.headers.get("set-cookie"))).toContain("secure");
  });

  it("refuses an unknown token with 401 and counts it in auth_refusals, not in the audit log", async () => {
    const client = new AdminClient(adminApp({ db: t.db }), "http://localhost", {
      "cf-connecting-ip": "198.51.100.10",
    });
    const eventsBefore = await auditCount();
    const res = await client.signIn("rgt_this-is-not-a-token");
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain("That token was not accepted");
    expect(await auditCount()).toBe(eventsBefore);
    expect(await refusals("198.51.100.10")).toEqual([
      { reason: "admin-login:unknown", count: 1, last_path: "/admin/login" },
    ]);
    const { rows } = await t.raw.query(
      "SELECT count(*)::int AS n FROM auth_refusals WHERE reason LIKE '%rgt_%'",
    );
    expect(rows[0].n).toBe(0);
  });

  it("audits a failed sign-in with a known token as SIGN_IN_FAILED under that token, never the secret", async () => {
    const revoked = await token(t.db, "admin");
    await revokeApiToken(t.db, { actor: "system:test" }, revoked.id);
    const client = new AdminClient(adminApp({ db: t.db }));
    const res = await client.signIn(revoked.secret);
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    const [event] = (
      await listAudit(t.db, { type: "SIGN_IN_FAILED", subjectId: revoked.id, limit: 5 })
    ).items;
    expect(event).toMatchObject({
      actor: revoked.actor,
      subjectType: "api_token",
      requestId: res.headers.get("x-request-id"),
      userAgent: "admin-test-client",
      data: { via: "admin-login", reason: "revoked", tokenId: revoked.id },
    });
    expect(JSON.stringify(event)).not.toContain(revoked.secret);
  });

  it("does not let a submitter token use the admin page, and audits the attempt", async () => {
    const submitter = await token(t.db, "submitter");
    const client = new AdminClient(adminApp({ db: t.db }));
    const res = await client.signIn(submitter.secret);
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain("Submitter tokens send jobs through the API");
    const [event] = (
      await listAudit(t.db, { type: "SIGN_IN_FAILED", subjectId: submitter.id, limit: 5 })
    ).items;
    expect(event).toMatchObject({
      actor: submitter.actor,
      data: { via: "admin-login", reason: "forbidden role", tokenId: submitter.id },
    });
  });

  it("audits a sign-in as ADMIN_SIGNED_IN of the new session, never the secret", async () => {
    const client = new AdminClient(adminApp({ db: t.db }));
    const res = await client.signIn(adminToken.secret);
    expect(res.status).toBe(303);
    const session = await sessionOf(client);
    const trail = await listAudit(t.db, { subjectId: session.id, limit: 5 });
    expect(trail.items).toHaveLength(1);
    expect(trail.items[0]).toMatchObject({
      type: "ADMIN_SIGNED_IN",
      actor: adminToken.actor,
      subjectType: "admin_session",
      requestId: res.headers.get("x-request-id"),
      userAgent: "admin-test-client",
      data: { via: "token", tokenId: adminToken.id },
    });
    expect(JSON.stringify(trail.items)).not.toContain(adminToken.secret);
  });

  it("signs a session out as soon as its token is revoked", async () => {
    const doomed = await token(t.db, "admin");
    const client = new AdminClient(adminApp({ db: t.db }));
    await client.signIn(doomed.secret);
    expect((await client.request("/admin")).status).toBe(200);

    await revokeApiToken(t.db, { actor: "system:test" }, doomed.id);
    const res = await client.request("/admin");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toContain("/admin/login?");
    expect(res.headers.get("location")).toContain("expired=1");
    expect(cookieAttributes(res.headers.get("set-cookie"))).toContain("max-age=0");
  });

  it("does not accept a session cookie that was altered or signed with another secret", async () => {
    const client = new AdminClient(adminApp({ db: t.db }));
    await client.signIn(adminToken.secret);
    const other = new AdminClient(adminApp({ db: t.db }));
    await other.signIn(adminToken.secret);
    // Another live session's id under this cookie's signature.
    const forged = client.cookie.replace((await sessionOf(client)).id, (await sessionOf(other)).id);
    expect(forged).not.toBe(client.cookie);
    const res = await client.request("/admin", { headers: { cookie: forged } });
    expect(res.status).toBe(303);

    const elsewhere = adminApp({
      db: t.db,
      env: { SESSION_SECRET: "another-secret-another-secret-another-secret" },
    });
    const res2 = await elsewhere.request("http://localhost/admin", {
      headers: { cookie: client.cookie },
    });
    expect(res2.status).toBe(303);
  });

  it("only returns to paths inside the admin page after signing in", async () => {
    const client = new AdminClient(adminApp({ db: t.db }));
    for (const next of [
      "https://evil.example/",
      "//evil.example/admin",
      "/api/jobs",
      "/admin\\@x",
    ]) {
      const res = await client.post(
        "/admin/login",
        { token: adminToken.secret, next },
        { csrf: null },
      );
      expect(res.headers.get("location")).toBe("/admin");
    }
  });

  it("falls back to /admin for a return path with control or non-ASCII characters, never a 5xx", async () => {
    const unsafe = [
      "/admin\r\nSet-Cookie: x=1",
      "/admin/jobs\nx",
      "/admin?\u0000",
      "/admin/\tx",
      "/admin/ x",
      "/admin/\u2028",
      "/admin/\u00e9",
      "/admin/\u{1f600}",
    ];
    const anonymous = new AdminClient(adminApp({ db: t.db }));
    for (const next of unsafe) {
      const page = await anonymous.request(`/admin/login?next=${encodeURIComponent(next)}`);
      expect(page.status, JSON.stringify(next)).toBe(200);
      expect(await page.text()).not.toContain("Set-Cookie: x");
    }
    for (const next of unsafe) {
      const client = new AdminClient(adminApp({ db: t.db }));
      const res = await client.post(
        "/admin/login",
        { token: adminToken.secret, next },
        { csrf: null },
      );
      expect(res.status, JSON.stringify(next)).toBe(303);
      expect(res.headers.get("location")).toBe("/admin");
    }
    // Signed in, the login page sends the session on, to the safe place.
    const signedIn = new AdminClient(adminApp({ db: t.db }));
    await signedIn.signIn(adminToken.secret);
    for (const next of unsafe) {
      const res = await signedIn.request(`/admin/login?next=${encodeURIComponent(next)}`);
      expect(res.status, JSON.stringify(next)).toBe(303);
      expect(res.headers.get("location")).toBe("/admin");
    }
  });

  it("signs out with a POST that ends the session and clears the cookie; there is no GET sign-out", async () => {
    const client = new AdminClient(adminApp({ db: t.db }));
    await client.signIn(adminToken.secret);
    const session = await sessionOf(client);
    expect((await client.request("/admin/logout")).status).toBe(404);
    const res = await client.post("/admin/logout", {});
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/login?signedOut=1");
    expect(cookieAttributes(res.headers.get("set-cookie"))).toContain("max-age=0");
    expect((await sessionOf(client, session.id)).ended_at).toBeInstanceOf(Date);
    const trail = await listAudit(t.db, { subjectId: session.id, limit: 5 });
    expect(trail.items.map((e) => e.type)).toEqual(["ADMIN_SIGNED_OUT", "ADMIN_SIGNED_IN"]);
    expect(trail.items[0]).toMatchObject({
      actor: adminToken.actor,
      subjectType: "admin_session",
      requestId: res.headers.get("x-request-id"),
      data: { via: "token", tokenId: adminToken.id },
    });
  });

  it("refuses a copied cookie and its form token once the session signed out: nothing is written", async () => {
    const job = await failedJob(t.db);
    const client = new AdminClient(adminApp({ db: t.db }));
    await client.signIn(adminToken.secret);
    const copiedCookie = client.cookie;
    const copiedCsrf = csrfOf((await client.page(`/admin/jobs/${job.id}`)).html);
    expect((await client.post("/admin/logout", {}, { csrf: copiedCsrf })).status).toBe(303);

    const thief = new AdminClient(adminApp({ db: t.db }));
    thief.cookie = copiedCookie;
    const eventsBefore = await auditCount();
    const res = await thief.post(
      `/admin/jobs/${job.id}/retry-intents`,
      { reasonCode: "OTHER", reasonText: "replayed after sign-out" },
      { csrf: copiedCsrf },
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/login?expired=1");
    expect(await listRetryIntentsForJob(t.db, job.id)).toEqual([]);
    expect(await auditCount()).toBe(eventsBefore);
    expect((await thief.request("/admin")).status).toBe(303);
    // Signing out again changes nothing: the session ended once.
    expect((await thief.post("/admin/logout", {}, { csrf: copiedCsrf })).status).toBe(303);
    const ends = await listAudit(t.db, {
      type: "ADMIN_SIGNED_OUT",
      subjectId: (await sessionOf(client)).id,
      limit: 5,
    });
    expect(ends.items).toHaveLength(1);
  });

  it("signs a session out once it expires, though its cookie is still presented", async () => {
    const client = new AdminClient(adminApp({ db: t.db }));
    await client.signIn(adminToken.secret);
    expect((await client.request("/admin")).status).toBe(200);
    // Only ended_at may change, so the session is made at its end as a superuser would.
    const session = await sessionOf(client);
    await t.raw.query("ALTER TABLE admin_sessions DISABLE TRIGGER admin_sessions_update_guard");
    try {
      await t.raw.query(
        "UPDATE admin_sessions SET expires_at = now() - interval '1 second' WHERE id = $1",
        [session.id],
      );
    } finally {
      await t.raw.query("ALTER TABLE admin_sessions ENABLE TRIGGER admin_sessions_update_guard");
    }
    const res = await client.request("/admin");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toContain("expired=1");
  });

  it("lets a session only end, once, in the database itself", async () => {
    const client = new AdminClient(adminApp({ db: t.db }));
    await client.signIn(adminToken.secret);
    const { id } = await sessionOf(client);
    for (const statement of [
      "UPDATE admin_sessions SET expires_at = now() + interval '1 year' WHERE id = $1",
      "UPDATE admin_sessions SET ended_at = NULL WHERE id = $1",
    ]) {
      await expect(t.raw.query(statement, [id])).rejects.toThrow(
        /admin_sessions changes only by setting ended_at, once/,
      );
    }
    await t.raw.query("UPDATE admin_sessions SET ended_at = now() WHERE id = $1", [id]);
    await expect(
      t.raw.query("UPDATE admin_sessions SET ended_at = now() WHERE id = $1", [id]),
    ).rejects.toThrow(/admin_sessions changes only by setting ended_at, once/);
  });

  it("refuses to start without a long enough session secret", () => {
    expect(() => createAdminApp({ db: t.db, sessionSecret: "short" })).toThrow(/32 characters/);
  });
});

describe("the sign-in limit", () => {
  const fromAddress = (app: ReturnType<typeof adminApp>, ip: string) =>
    new AdminClient(app, "http://localhost", { "cf-connecting-ip": ip });

  it("answers 429 with Retry-After and when to try again after 10 failures from one address, before looking the token up", async () => {
    const app = adminApp({ db: t.db });
    const client = fromAddress(app, "203.0.113.20");
    for (let i = 0; i < 10; i++) {
      expect((await client.signIn(`rgt_guess-number-${i}-${"x".repeat(i)}`)).status).toBe(401);
    }
    const eventsBefore = await auditCount();
    const limited = await client.signIn("rgt_guess-eleven");
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(250);
    expect(retryAfter).toBeLessThanOrEqual(300);
    const html = await limited.text();
    expect(html).toContain("Too many failed sign-ins");
    expect(html).toMatch(/Try again in 5 minutes \(at \d\d:\d\d UTC\)/);
    // Not even the right token gets in from there now: the limit is checked before any lookup.
    const right = await client.signIn(adminToken.secret);
    expect(right.status).toBe(429);
    expect(right.headers.get("set-cookie")).toBeNull();
    expect(await auditCount()).toBe(eventsBefore);
    expect(await refusals("203.0.113.20")).toEqual([
      { reason: "admin-login:limited", count: 2, last_path: "/admin/login" },
      { reason: "admin-login:unknown", count: 10, last_path: "/admin/login" },
    ]);
    // Another address is not held up.
    const elsewhere = fromAddress(app, "203.0.113.21");
    expect((await elsewhere.signIn(adminToken.secret)).status).toBe(303);
  });

  it("never locks out a correct token from another address, whatever failures used its first characters", async () => {
    const app = adminApp({ db: t.db });
    const prefix = adminToken.secret.slice(0, 12);
    const attacker = fromAddress(app, "127.0.0.3");
    for (let i = 0; i < 10; i++) {
      expect((await attacker.signIn(`${prefix}-wrong-${i}`)).status).toBe(401);
    }
    expect((await attacker.signIn(`${prefix}-wrong-again`)).status).toBe(429);
    // The victim, from its own address, signs in at once.
    expect((await fromAddress(app, "127.0.0.4").signIn(adminToken.secret)).status).toBe(303);
  });

  it("does not count successful sign-ins", async () => {
    const app = adminApp({ db: t.db });
    const client = fromAddress(app, "203.0.113.30");
    for (let i = 0; i < 12; i++) expect((await client.signIn(adminToken.secret)).status).toBe(303);
  });
});

describe("sign-in by Cloudflare Access identity", () => {
  /** The server with Access on, and a client whose every request carries `email`'s assertion. */
  async function accessClient(email: string | null) {
    const team = await accessTeam({
      admins: "ops@example.com",
      viewers: "auditor@example.com",
      submitters: "bot@example.com",
    });
    const app = adminApp({ db: t.db, env: team.env, accessKeys: team.keys });
    const headers: Record<string, string> = {};
    if (email) headers["cf-access-jwt-assertion"] = await team.tokenFor(email);
    return new AdminClient(app, "http://localhost", headers);
  }

  it("signs an Access admin in without the login page and audits changes as access:<email>", async () => {
    const job = await failedJob(t.db);
    const client = await accessClient("ops@example.com");
    const page = await client.page(`/admin/jobs/${job.id}`);
    expect(page.res.status).toBe(200);
    expect(page.html).toContain("ops@example.com");
    // Access owns that session, so signing out goes through Access.
    expect(page.html).toContain('href="/cdn-cgi/access/logout"');
    const res = await client.post(
      `/admin/jobs/${job.id}/retry-intents`,
      { reasonCode: "INFRA_ERROR", reasonText: "node drained" },
      { from: `/admin/jobs/${job.id}` },
    );
    expect(res.status).toBe(303);
    const [intent] = await listRetryIntentsForJob(t.db, job.id);
    expect(intent?.approvedBy).toBe("access:ops@example.com");
  });

  it("gives an Access viewer read access and an Access submitter a 403", async () => {
    const viewer = await accessClient("auditor@example.com");
    expect((await viewer.request("/admin")).status).toBe(200);
    const submitter = await accessClient("bot@example.com");
    const res = await submitter.request("/admin");
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("Submitters send jobs");
  });

  it("falls back to the token session when Access vouches for no one with a role", async () => {
    for (const email of [null, "stranger@example.com"]) {
      const client = await accessClient(email);
      expect((await client.request("/admin")).status).toBe(303);
      await client.signIn(adminToken.secret);
      expect((await client.request("/admin")).status).toBe(200);
    }
  });
});

describe("security headers", () => {
  it("puts a strict CSP, frame denial, referrer policy and nosniff on every admin response", async () => {
    const client = new AdminClient(adminApp({ db: t.db }));
    const anonymous = [
      await client.request("/admin/login"),
      await client.request("/admin"),
      await client.request("/admin/assets/admin.css"),
    ];
    await client.signIn(adminToken.secret);
    const signedIn = [
      await client.request("/admin"),
      await client.request("/admin/no-such-page"),
      await client.request("/admin/jobs/nosuchjob"),
    ];
    for (const res of [...anonymous, ...signedIn]) {
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("form-action 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("same-origin");
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(signedIn[0]?.headers.get("cache-control")).toBe("no-store");
    expect(anonymous[2]?.headers.get("content-type")).toContain("text/css");
    expect(signedIn.map((r) => r.status)).toEqual([200, 404, 404]);
    const slash = await client.request("/admin/");
    expect(slash.status).toBe(308);
    expect(slash.headers.get("location")).toBe("/admin");
  });
});

describe("CSRF", () => {
  it("refuses a form posted from another origin, even with a valid session and form token", async () => {
    const job = await failedJob(t.db);
    const client = new AdminClient(adminApp({ db: t.db }));
    await client.signIn(adminToken.secret);
    const csrf = csrfOf((await client.page(`/admin/jobs/${job.id}`)).html);
    const res = await client.post(
      `/admin/jobs/${job.id}/retry-intents`,
      { reasonCode: "OTHER", reasonText: "sent from elsewhere" },
      { csrf, origin: "https://evil.example" },
    );
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("This form was sent from another site");
    expect(await listRetryIntentsForJob(t.db, job.id)).toEqual([]);
  });

  it("refuses a same-origin post without the session's form token", async () => {
    const job = await failedJob(t.db);
    const client = new AdminClient(adminApp({ db: t.db }));
    await client.signIn(adminToken.secret);
    const fields = { reasonCode: "OTHER", reasonText: "no token" };
    const missing = await client.post(`/admin/jobs/${job.id}/retry-intents`, fields, {
      csrf: null,
    });
    expect(missing.status).toBe(403);
    const wrong = await client.post(`/admin/jobs/${job.id}/retry-intents`, fields, {
      csrf: "A".repeat(43),
    });
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).toContain("nothing was changed");
    expect(await listRetryIntentsForJob(t.db, job.id)).toEqual([]);
  });

  it("gives every session its own form token", async () => {
    const a = new AdminClient(adminApp({ db: t.db }));
    const b = new AdminClient(adminApp({ db: t.db }));
    await a.signIn(adminToken.secret);
    await b.signIn(adminToken.secret);
    const tokenA = csrfOf((await a.page("/admin")).html);
    const tokenB = csrfOf((await b.page("/admin")).html);
    expect(tokenA).not.toBe(tokenB);
    // A's token in B's session is refused.
    const job = await failedJob(t.db);
    const res = await b.post(
      `/admin/jobs/${job.id}/retry-intents`,
      { reasonCode: "OTHER", reasonText: "crossed tokens" },
      { csrf: tokenA },
    );
    expect(res.status).toBe(403);
  });
});

describe("roles", () => {
  it("shows a viewer no form that changes anything and refuses every change with 403", async () => {
    const viewerToken = await token(t.db, "viewer", "auditor");
    const job = await failedJob(t.db);
    const admin = new AdminClient(adminApp({ db: t.db }));
    await admin.signIn(adminToken.secret);
    await admin.post(
      `/admin/jobs/${job.id}/retry-intents`,
      { reasonCode: "OTHER", reasonText: "pending for the viewer to see" },
      { from: `/admin/jobs/${job.id}` },
    );
    const [intent] = await listRetryIntentsForJob(t.db, job.id);
    if (!intent) throw new Error("no intent");

    const viewer = new AdminClient(adminApp({ db: t.db }));
    await viewer.signIn(viewerToken.secret);
    for (const path of [
      "/admin",
      `/admin/jobs/${job.id}`,
      `/admin/jobs/${job.id}/retry-intents`,
      "/admin/retry-intents",
      `/admin/retry-intents/${intent.id}`,
      "/admin/audit",
    ]) {
      const { res, html } = await viewer.page(path);
      expect(res.status, path).toBe(200);
      const postForms = html.match(/<form[^>]*method="post"[^>]*>/g) ?? [];
      expect(postForms, path).toEqual([
        '<form method="post" action="/admin/logout" class="sign-out">',
      ]);
      expect(html, path).not.toContain("<textarea");
      expect(html, path).not.toContain("Execute…");
    }
    expect((await viewer.request(`/admin/retry-intents/${intent.id}/execute`)).status).toBe(403);
    const attempts = [
      viewer.post(`/admin/retry-intents/${intent.id}/execute`, {}),
      viewer.post(`/admin/retry-intents/${intent.id}/reject`, { reasonText: "no" }),
      viewer.post(`/admin/jobs/${job.id}/retry-intents`, {
        reasonCode: "OTHER",
        reasonText: "viewer",
      }),
    ];
    for (const res of await Promise.all(attempts)) expect(res.status).toBe(403);
    const intents = await listRetryIntentsForJob(t.db, job.id);
    expect(intents.map((i) => i.status)).toEqual(["PENDING"]);
  });
});
