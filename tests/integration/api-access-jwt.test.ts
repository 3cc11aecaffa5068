import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiApp, call, createTokens, type Tokens, testApp } from "../helpers/api";
import { freshDatabase, type TestDatabase } from "../helpers/db";

/**
 * Cloudflare Access tokens, signed here with locally generated keys. The team's key server is
 * the one stand-in: a node:http server on 127.0.0.1 publishing the JWKS, fetched by jose.
 */

const TEAM = "regent-test.cloudflareaccess.com";
const ISSUER = `https://${TEAM}`;
const AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";

let t: TestDatabase;
let app: ApiApp;
let tokens: Tokens;
let server: Server;
let keyServerHits = 0;
let signingKey: CryptoKey;
let strangerKey: CryptoKey;
const KID = "current-key";

async function authDenial(): Promise<Record<string, unknown> | undefined> {
  const { rows } = await t.raw.query(
    "SELECT data FROM audit_events WHERE type = 'AUTH_DENIED' ORDER BY id DESC LIMIT 1",
  );
  return rows[0]?.data;
}

const auditCount = async (): Promise<number> =>
  (await t.raw.query("SELECT count(*)::int AS n FROM audit_events")).rows[0].n;

/** How many refusals that proved no identity were counted under `reason`, over all hours. */
async function refusalCount(reason: string): Promise<number> {
  const { rows } = await t.raw.query(
    "SELECT coalesce(sum(count), 0)::int AS n FROM auth_refusals WHERE reason = $1",
    [reason],
  );
  return rows[0].n;
}

function sign(claims: JWTPayload, options: { key?: CryptoKey; kid?: string } = {}) {
  return new SignJWT({ email: "alice@example.com", ...claims })
    .setProtectedHeader({ alg: "RS256", kid: options.kid ?? KID })
    .setIssuedAt()
    .setIssuer(ISSUER)
    .setAudience(AUD)
    .setExpirationTime("5m")
    .sign(options.key ?? signingKey);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

beforeAll(async () => {
  t = await freshDatabase();
  tokens = await createTokens(t.db);
  const pair = await generateKeyPair("RS256", { extractable: true });
  signingKey = pair.privateKey;
  strangerKey = (await generateKeyPair("RS256")).privateKey;
  const publicJwk: JWK = {
    ...(await exportJWK(pair.publicKey)),
    kid: KID,
    alg: "RS256",
    use: "sig",
  };
  server = createServer((request, response) => {
    keyServerHits++;
    if (request.url === "/cdn-cgi/access/certs") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ keys: [publicJwk] }));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const accessKeys = createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/cdn-cgi/access/certs`));
  app = testApp(
    t.db,
    {
      ACCESS_TEAM_DOMAIN: TEAM,
      ACCESS_AUD: AUD,
      ACCESS_ADMIN_EMAILS: "alice@example.com",
      ACCESS_VIEWER_EMAILS: "@viewers.example.com, Carol@Example.com",
      ACCESS_SUBMITTER_EMAILS: "carol@example.com",
    },
    { accessKeys },
  );
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("Cloudflare Access tokens", () => {
  it("accepts a valid token and acts as access:<email> with the configured role", async () => {
    const jwt = await sign({});
    const created = await call(app, "POST", "/api/jobs", {
      accessJwt: jwt,
      body: { generator: "demo", input: { text: "via access" } },
    });
    expect(created.status).toBe(201);
    expect(created.body.job.createdBy).toBe("access:alice@example.com");
    const { rows } = await t.raw.query(
      "SELECT actor, request_id FROM audit_events WHERE subject_id = $1 AND type = 'JOB_CREATED'",
      [created.body.job.id],
    );
    expect(rows[0]).toEqual({
      actor: "access:alice@example.com",
      request_id: created.headers.get("x-request-id"),
    });
    expect((await call(app, "GET", "/api/admin/jobs", { accessJwt: jwt })).status).toBe(200);
  });

  it("maps e-mail addresses and @domains to roles, case-insensitively", async () => {
    const viewer = await sign({ email: "Dave@viewers.example.com" });
    expect((await call(app, "GET", "/api/admin/jobs", { accessJwt: viewer })).status).toBe(200);
    const forbidden = await call(app, "POST", "/api/jobs", {
      accessJwt: viewer,
      body: { generator: "demo", input: { text: "a" } },
    });
    expect(forbidden.status).toBe(403);

    // Listed as viewer and as submitter: both roles, but not admin.
    const carol = await sign({ email: "carol@example.com" });
    expect((await call(app, "GET", "/api/admin/audit", { accessJwt: carol })).status).toBe(200);
    const submitted = await call(app, "POST", "/api/jobs", {
      accessJwt: carol,
      body: { generator: "demo", input: { text: "a" } },
    });
    expect(submitted.status).toBe(201);
    const intent = await call(app, "POST", "/api/admin/retry-intents", {
      accessJwt: carol,
      body: { sourceJobId: submitted.body.job.id, reasonCode: "OTHER", reasonText: "x" },
    });
    expect(intent.status).toBe(403);
  });

  it("refuses with 403 an authenticated address that no role lists", async () => {
    const jwt = await sign({ email: "mallory@elsewhere.example" });
    const response = await call(app, "GET", "/api/admin/jobs", { accessJwt: jwt });
    expect(response.status).toBe(403);
    expect(await authDenial()).toMatchObject({
      reason: "forbidden role",
      via: "access",
      principal: "access:mallory@elsewhere.example",
      roles: [],
    });
  });

  const refusals: [string, () => Promise<string>, Record<string, unknown>][] = [
    [
      "an expired token",
      async () =>
        new SignJWT({ email: "alice@example.com" })
          .setProtectedHeader({ alg: "RS256", kid: KID })
          .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
          .setIssuer(ISSUER)
          .setAudience(AUD)
          .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
          .sign(signingKey),
      { reason: "expired" },
    ],
    [
      "a token for another application (wrong aud)",
      async () =>
        new SignJWT({ email: "alice@example.com" })
          .setProtectedHeader({ alg: "RS256", kid: KID })
          .setIssuer(ISSUER)
          .setAudience("some-other-application")
          .setExpirationTime("5m")
          .sign(signingKey),
      { reason: "bad claim", claim: "aud" },
    ],
    [
      "a token from another team (wrong iss)",
      async () =>
        new SignJWT({ email: "alice@example.com" })
          .setProtectedHeader({ alg: "RS256", kid: KID })
          .setIssuer("https://evil.cloudflareaccess.com")
          .setAudience(AUD)
          .setExpirationTime("5m")
          .sign(signingKey),
      { reason: "bad claim", claim: "iss" },
    ],
    [
      'an unsigned token (alg "none")',
      async () => {
        const exp = Math.floor(Date.now() / 1000) + 300;
        return `${b64url({ alg: "none", kid: KID })}.${b64url({ email: "alice@example.com", iss: ISSUER, aud: AUD, exp })}.`;
      },
      { reason: "unsupported algorithm" },
    ],
    [
      "an HS256 token (public key used as an HMAC secret)",
      async () =>
        new SignJWT({ email: "alice@example.com" })
          .setProtectedHeader({ alg: "HS256", kid: KID })
          .setIssuer(ISSUER)
          .setAudience(AUD)
          .setExpirationTime("5m")
          .sign(new TextEncoder().encode(JSON.stringify({ kid: KID }))),
      { reason: "unsupported algorithm" },
    ],
    [
      "a token signed by a key the team does not publish (unknown kid)",
      () => sign({}, { key: strangerKey, kid: "not-a-team-key" }),
      { reason: "unknown key" },
    ],
    [
      "a token signed by a stranger under the team's kid",
      () => sign({}, { key: strangerKey }),
      { reason: "bad signature" },
    ],
    [
      "a token without an e-mail address",
      () => sign({ email: undefined }),
      { reason: "bad claim", claim: "email" },
    ],
    ["something that is not a JWT", async () => "not.a.jwt", { reason: "malformed" }],
  ];

  it.each(refusals)(
    "refuses %s with 401 and counts why, auditing nothing",
    async (_name, make, facts) => {
      const jwt = await make();
      const reason = ["access", facts.reason, ...(facts.claim ? [facts.claim] : [])].join(":");
      const [before, events] = [await refusalCount(reason), await auditCount()];
      const response = await call(app, "GET", "/api/admin/jobs", { accessJwt: jwt });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe("UNAUTHENTICATED");
      expect(await refusalCount(reason)).toBe(before + 1);
      expect(await auditCount()).toBe(events);
      const { rows } = await t.raw.query(
        "SELECT count(*)::int AS n FROM auth_refusals WHERE position($1 IN concat(reason, last_path)) > 0",
        [jwt],
      );
      expect(rows[0].n).toBe(0);
    },
  );

  it("prefers an API token over the Access assertion, and never falls back from a bad one", async () => {
    const jwt = await sign({});
    const withToken = await call(app, "POST", "/api/jobs", {
      token: tokens.submitter,
      accessJwt: jwt,
      body: { generator: "demo", input: { text: "a" } },
    });
    expect(withToken.body.job.createdBy).toBe(tokens.actors.submitter);
    const badToken = await call(app, "GET", "/api/admin/jobs", {
      token: "rgt_unknown-token-value",
      accessJwt: jwt,
    });
    expect(badToken.status).toBe(401);
  });

  it("fetches the team's keys once, not per request", async () => {
    const before = keyServerHits;
    const jwt = await sign({});
    for (let i = 0; i < 5; i++) {
      expect((await call(app, "GET", "/api/admin/jobs", { accessJwt: jwt })).status).toBe(200);
    }
    expect(keyServerHits).toBe(before);
  });

  it("ignores the Access header when Access is not configured", async () => {
    const plain = testApp(t.db);
    const before = await refusalCount("missing");
    const response = await call(plain, "GET", "/api/admin/jobs", { accessJwt: await sign({}) });
    expect(response.status).toBe(401);
    expect(await refusalCount("missing")).toBe(before + 1);
  });
});

describe("the admin page behind Cloudflare Access", () => {
  let withAdmin: ApiApp;
  beforeAll(async () => {
    const { port } = server.address() as AddressInfo;
    withAdmin = testApp(
      t.db,
      {
        ACCESS_TEAM_DOMAIN: TEAM,
        ACCESS_AUD: AUD,
        ACCESS_ADMIN_EMAILS: "alice@example.com",
        ACCESS_VIEWER_EMAILS: "@viewers.example.com",
        SESSION_SECRET: "a-session-secret-of-at-least-32-characters",
      },
      { accessKeys: createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/cdn-cgi/access/certs`)) },
    );
  });
  const page = async (jwt: string) =>
    withAdmin.request("/admin", {
      headers: { "cf-access-jwt-assertion": jwt },
      redirect: "manual",
    });

  it("signs the Access identity in through the API's own verification, with its role", async () => {
    const admin = await page(await sign({}));
    expect(admin.status).toBe(200);
    const adminHtml = await admin.text();
    expect(adminHtml).toContain("alice@example.com");

    const viewer = await page(await sign({ email: "bob@viewers.example.com" }));
    expect(viewer.status).toBe(200);
    const viewerHtml = await viewer.text();
    expect(viewerHtml).toContain("bob@viewers.example.com");
    expect(viewerHtml).not.toMatch(/name="reasonText"/);
  });

  it("does not sign in with a token Access did not sign, or one that expired", async () => {
    const forged = await sign({}, { key: strangerKey });
    const expired = await new SignJWT({ email: "alice@example.com" })
      .setProtectedHeader({ alg: "RS256", kid: KID })
      .setIssuer(ISSUER)
      .setAudience(AUD)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(signingKey);
    for (const [name, jwt] of [
      ["forged", forged],
      ["expired", expired],
    ] as const) {
      const response = await page(jwt);
      expect(response.status, name).toBe(303);
      expect(response.headers.get("location")).toMatch(/^\/admin\/login/);
    }
  });
});
