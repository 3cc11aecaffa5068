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
    // The token itself never travels in the cookie, only its id and a signature.
    expect(decodeURIComponent(client.cookie)).not.toContain(adminToken.secret);
    expect(decodeURIComponent(client.cookie)).toContain(adminToken.id);

    const page = await client.page("/admin");
    expect(page.res.status).toBe(200);
    expect(page.html).toContain("alice");

    const https = new AdminClient(adminApp({ db: t.db }), "https://admin.example");
    const secure = await https.signIn(adminToken.secret);
    expect(cookieAttributes(secure.headers.get("set-cookie"))).toContain("secure");
  });

  it("refuses an unknown token with 401 and records AUTH_DENIED", async () => {
    const client = new AdminClient(adminApp({ db: t.db }));
    const res = await client.signIn("rgt_this-is-not-a-token");
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain("That token was not accepted");
    const requestId = res.headers.get("x-request-id");
    const denied = await listAudit(t.db, { type: "AUTH_DENIED", limit: 50 });
    const event = denied.items.find((e) => e.requestId === requestId);
    expect(event).toMatchObject({
      actor: "anonymous",
      subjectType: "request",
      userAgent: "admin-test-client",
      data: { via: "admin-login", reason: "unknown" },
    });
  });

  it("does not let a submitter token use the admin page", async () => {
    const submitter = await token(t.db, "submitter");
    const client = new AdminClient(adminApp({ db: t.db }));
    const res = await client.signIn(submitter.secret);
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain("Submitter tokens send jobs through the API");
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
    const other = await token(t.db, "admin");
    const forged = client.cookie.replace(adminToken.id, other.id);
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

  it("signs out with a POST that clears the cookie; there is no GET sign-out", async () => {
    const client = new AdminClient(adminApp({ db: t.db }));
    await client.signIn(adminToken.secret);
    expect((await client.request("/admin/logout")).status).toBe(404);
    const res = await client.post("/admin/logout", {});
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/login?signedOut=1");
    expect(cookieAttributes(res.headers.get("set-cookie"))).toContain("max-age=0");
  });

  it("refuses to start without a long enough session secret", () => {
    expect(() => createAdminApp({ db: t.db, sessionSecret: "short" })).toThrow(/32 characters/);
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
