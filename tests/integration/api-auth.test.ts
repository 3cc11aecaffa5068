import { beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../functions/domain/canonical-json";
import { submitJob } from "../../functions/domain/jobs";
import { createRetryBatch, previewRetryBatch } from "../../functions/domain/retry-batches";
import {
  type ApiApp,
  call,
  createTokens,
  type JsonBody,
  type Tokens,
  testApp,
} from "../helpers/api";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, failedJob, failedJobs, pendingIntent } from "../helpers/fixtures";

/**
 * Every route against every kind of caller. Refusals are 401 (who are you?), counted per hour,
 * address and reason in auth_refusals, or 403 (not you), audited under the principal refused;
 * the same request with the right role succeeds.
 */

let t: TestDatabase;
let app: ApiApp;
let tokens: Tokens;
const ids: Record<string, string> = {};

type Who = "none" | "bad" | "revoked" | "viewer" | "submitter" | "admin";
const WHO: Who[] = ["none", "bad", "revoked", "viewer", "submitter", "admin"];

function tokenOf(who: Who): string | undefined {
  switch (who) {
    case "none":
      return undefined;
    case "bad":
      return "rgt_this-token-was-never-issued";
    default:
      return tokens[who];
  }
}

interface RouteCase {
  method: "GET" | "POST";
  /** The path as the OpenAPI document names it. */
  template: string;
  path: () => string;
  body?: (who: Who) => unknown;
  /** Status for viewer, submitter and admin; anonymous, bad and revoked are always 401. */
  expect: { viewer: number; submitter: number; admin: number };
  public?: boolean;
}

const READ = { viewer: 200, submitter: 403, admin: 200 };
const ADMIN_WRITE = (status: number) => ({ viewer: 403, submitter: 403, admin: status });

const ROUTES: RouteCase[] = [
  {
    method: "GET",
    template: "/api/admin/generators",
    path: () => "/api/admin/generators",
    expect: READ,
  },
  {
    method: "GET",
    template: "/api/admin/generators/{name}",
    path: () => "/api/admin/generators/demo",
    expect: READ,
  },
  {
    method: "POST",
    template: "/api/admin/generators/{name}/pause",
    path: () => "/api/admin/generators/auth-brake/pause",
    body: () => ({ reasonText: "the upstream is down" }),
    expect: ADMIN_WRITE(200),
  },
  {
    method: "POST",
    template: "/api/admin/generators/{name}/resume",
    path: () => "/api/admin/generators/auth-brake/resume",
    body: () => ({ reasonText: "the upstream is back" }),
    expect: ADMIN_WRITE(200),
  },
  {
    method: "POST",
    template: "/api/jobs",
    path: () => "/api/jobs",
    body: (who) => ({ generator: "demo", input: { text: `from ${who}` } }),
    expect: { viewer: 403, submitter: 201, admin: 201 },
  },
  {
    method: "GET",
    template: "/api/jobs/{id}",
    path: () => `/api/jobs/${ids.submittersJob}`,
    expect: { viewer: 403, submitter: 200, admin: 200 },
  },
  {
    method: "GET",
    template: "/api/admin/jobs",
    path: () => "/api/admin/jobs?limit=5",
    expect: READ,
  },
  {
    method: "GET",
    template: "/api/admin/jobs/{id}",
    path: () => `/api/admin/jobs/${ids.failedForIntent}`,
    expect: READ,
  },
  {
    method: "POST",
    template: "/api/admin/retry-intents",
    path: () => "/api/admin/retry-intents",
    body: () => ({
      sourceJobId: ids.failedForIntent,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "the upstream timed out",
    }),
    expect: ADMIN_WRITE(201),
  },
  {
    method: "GET",
    template: "/api/admin/retry-intents",
    path: () => "/api/admin/retry-intents?status=PENDING",
    expect: READ,
  },
  {
    method: "GET",
    template: "/api/admin/retry-intents/{id}",
    path: () => `/api/admin/retry-intents/${ids.intentToExecute}`,
    expect: READ,
  },
  {
    method: "POST",
    template: "/api/admin/retry-intents/{id}/execute",
    path: () => `/api/admin/retry-intents/${ids.intentToExecute}/execute`,
    expect: ADMIN_WRITE(201),
  },
  {
    method: "POST",
    template: "/api/admin/retry-intents/{id}/reject",
    path: () => `/api/admin/retry-intents/${ids.intentToReject}/reject`,
    body: () => ({ reasonText: "not worth it" }),
    expect: ADMIN_WRITE(200),
  },
  {
    method: "POST",
    template: "/api/admin/retry-batches/preview",
    path: () => "/api/admin/retry-batches/preview",
    body: () => ({ filter: { errorCode: "AUTH_BATCH" } }),
    expect: ADMIN_WRITE(200),
  },
  {
    method: "POST",
    template: "/api/admin/retry-batches",
    path: () => "/api/admin/retry-batches",
    body: () => ({
      filter: { errorCode: "AUTH_BATCH" },
      previewToken: ids.batchPreviewToken,
      reasonCode: "INFRA_ERROR",
      reasonText: "the upstream was down",
    }),
    expect: ADMIN_WRITE(201),
  },
  {
    method: "GET",
    template: "/api/admin/retry-batches",
    path: () => "/api/admin/retry-batches?limit=5",
    expect: READ,
  },
  {
    method: "GET",
    template: "/api/admin/retry-batches/{id}",
    path: () => `/api/admin/retry-batches/${ids.batchToExecute}`,
    expect: READ,
  },
  {
    method: "POST",
    template: "/api/admin/retry-batches/{id}/execute",
    path: () => `/api/admin/retry-batches/${ids.batchToExecute}/execute`,
    expect: ADMIN_WRITE(200),
  },
  {
    method: "POST",
    template: "/api/admin/retry-batches/{id}/reject",
    path: () => `/api/admin/retry-batches/${ids.batchToReject}/reject`,
    body: () => ({ reasonText: "not worth it" }),
    expect: ADMIN_WRITE(200),
  },
  {
    method: "GET",
    template: "/api/admin/audit",
    path: () => "/api/admin/audit?limit=3",
    expect: READ,
  },
  {
    method: "GET",
    template: "/healthz",
    path: () => "/healthz",
    expect: { viewer: 200, submitter: 200, admin: 200 },
    public: true,
  },
  {
    method: "GET",
    template: "/api/openapi.json",
    path: () => "/api/openapi.json",
    expect: { viewer: 200, submitter: 200, admin: 200 },
    public: true,
  },
  {
    method: "GET",
    template: "/api/admin/metrics",
    path: () => "/api/admin/metrics",
    expect: READ,
  },
  {
    method: "GET",
    template: "/metrics",
    path: () => "/metrics",
    expect: READ,
  },
  {
    method: "GET",
    template: "/api/docs",
    path: () => "/api/docs",
    expect: { viewer: 200, submitter: 200, admin: 200 },
    public: true,
  },
];

function expected(route: RouteCase, who: Who): number {
  if (route.public) return 200;
  if (who === "none" || who === "bad" || who === "revoked") return 401;
  return route.expect[who];
}

async function authDenials(): Promise<{ subject_id: string; actor: string; data: JsonBody }[]> {
  const { rows } = await t.raw.query(
    "SELECT subject_id, actor, data FROM audit_events WHERE type = 'AUTH_DENIED' ORDER BY id",
  );
  return rows;
}

const CLIENT_IP = "198.51.100.7";
const fromClient = { "cf-connecting-ip": CLIENT_IP };

interface RefusalCount {
  reason: string;
  count: number;
  last_path: string;
}

/** The refusals counted for an address, per reason, summed over the hours. */
async function refusals(ip = CLIENT_IP): Promise<Record<string, RefusalCount>> {
  const { rows } = await t.raw.query<RefusalCount>(
    `SELECT DISTINCT ON (reason) reason, sum(count) OVER (PARTITION BY reason)::int AS count, last_path
     FROM auth_refusals WHERE ip = $1 ORDER BY reason, last_seen_at DESC`,
    [ip],
  );
  return Object.fromEntries(rows.map((row) => [row.reason, row]));
}

const auditCount = async (): Promise<number> =>
  (await t.raw.query("SELECT count(*)::int AS n FROM audit_events")).rows[0].n;

beforeAll(async () => {
  t = await freshDatabase();
  // Every refusal here must reach the counts, from the few addresses these tests send from:
  // the failed-authentication limit has tests of its own (api-auth-limit.test.ts).
  app = testApp(t.db, { AUTH_FAILURE_LIMIT: "100000" });
  tokens = await createTokens(t.db);
  await catalogue(t.db, "auth-brake");
  const submitterActor = { actor: tokens.actors.submitter };
  ids.submittersJob = (
    await submitJob(t.db, submitterActor, { generator: "demo", input: { text: "mine" } })
  ).id;
  ids.failedForIntent = (await failedJob(t.db)).id;
  ids.intentToExecute = await pendingIntent(t.db);
  ids.intentToReject = await pendingIntent(t.db, "maybe");
  const batchOf = async (errorCode: string) => {
    await failedJobs(t.db, 2, { code: errorCode });
    const filter = { errorCode };
    const { previewToken } = await previewRetryBatch(t.db, filter);
    const reason = { reasonCode: "OTHER" as const, reasonText: "an incident" };
    return (await createRetryBatch(t.db, admin, { filter, previewToken, ...reason })).id;
  };
  ids.batchToExecute = await batchOf("AUTH_EXECUTE");
  ids.batchToReject = await batchOf("AUTH_REJECT");
  await failedJobs(t.db, 2, { code: "AUTH_BATCH" });
  ids.batchPreviewToken = (await previewRetryBatch(t.db, { errorCode: "AUTH_BATCH" })).previewToken;
});

describe("every route × every caller", () => {
  const cases = ROUTES.flatMap((route) => WHO.map((who) => ({ route, who })));
  it.each(cases.map((c) => [`${c.route.method} ${c.route.template} as ${c.who}`, c] as const))(
    "%s",
    async (_name, { route, who }) => {
      const before = (await authDenials()).length;
      const countedBefore = await refusals();
      const response = await call(app, route.method, route.path(), {
        token: tokenOf(who),
        headers: fromClient,
        ...(route.body ? { body: route.body(who) } : {}),
      });
      const status = expected(route, who);
      expect(response.status, JSON.stringify(response.body)).toBe(status);
      expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      const denials = await authDenials();
      const counted = await refusals();
      const path = route.path().split("?")[0];
      if (status === 401) {
        expect(response.body.error.code).toBe("UNAUTHENTICATED");
        expect(response.body.error.requestId).toBe(response.headers.get("x-request-id"));
        // No identity proven: counted once under its reason, never audited.
        expect(denials.length).toBe(before);
        const reason = {
          none: "missing",
          bad: "token:unknown",
          revoked: `token:revoked:${tokens.actors.revoked.slice("token:".length)}`,
        }[who as "none" | "bad" | "revoked"];
        expect(counted[reason]?.count).toBe((countedBefore[reason]?.count ?? 0) + 1);
        expect(counted[reason]?.last_path).toBe(path);
        const others = Object.keys(counted).filter((r) => r !== reason);
        for (const other of others) expect(counted[other]).toEqual(countedBefore[other]);
      } else if (status === 403) {
        expect(response.body.error.code).toBe("FORBIDDEN");
        expect(response.body.error.requestId).toBe(response.headers.get("x-request-id"));
        // A known principal refused: exactly one event, about that request, under its actor.
        expect(denials.length).toBe(before + 1);
        const event = denials.at(-1);
        expect(event?.subject_id).toBe(response.body.error.requestId);
        expect(event?.actor).toBe(tokens.actors[who as "viewer" | "submitter"]);
        expect(event?.data.path).toBe(path);
        expect(event?.data.reason).toBe("forbidden role");
        expect(counted).toEqual(countedBefore);
      } else {
        expect(denials.length).toBe(before);
        expect(counted).toEqual(countedBefore);
      }
    },
  );

  it("covers every operation of the generated OpenAPI document", async () => {
    const { body } = await call(app, "GET", "/api/openapi.json");
    const documented = Object.entries(body.paths as Record<string, object>).flatMap(
      ([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const covered = ROUTES.map((r) => `${r.method} ${r.template}`);
    for (const operation of documented) expect(covered).toContain(operation);
  });
});

describe("authentication details", () => {
  it("never stores the presented secret or its hash, in the audit trail or the refusal counts", async () => {
    const secret = "rgt_a-secret-someone-guessed-0123456789";
    const response = await call(app, "GET", `/api/admin/jobs?token=${secret}`, {
      token: secret,
    });
    expect(response.status).toBe(401);
    const hash = await sha256Hex(secret);
    const { rows } = await t.raw.query(
      "SELECT count(*)::int AS n FROM audit_events WHERE data::text LIKE $1 OR data::text LIKE $2",
      [`%${secret}%`, `%${hash}%`],
    );
    expect(rows[0].n).toBe(0);
    const counted = await t.raw.query(
      "SELECT count(*)::int AS n FROM auth_refusals WHERE concat(reason, last_path) LIKE $1 OR concat(reason, last_path) LIKE $2",
      [`%${secret}%`, `%${hash}%`],
    );
    expect(counted.rows[0].n).toBe(0);
  });

  it("counts a revoked token's refusals under its id, never its secret, and audits nothing", async () => {
    const eventsBefore = await auditCount();
    const response = await call(app, "GET", "/api/admin/jobs", {
      token: tokens.revoked,
      headers: { "cf-connecting-ip": "198.51.100.8" },
    });
    expect(response.status).toBe(401);
    expect(response.body.error.message).toMatch(/revoked/);
    expect(await auditCount()).toBe(eventsBefore);
    const tokenId = tokens.actors.revoked.slice("token:".length);
    expect(Object.values(await refusals("198.51.100.8"))).toEqual([
      { reason: `token:revoked:${tokenId}`, count: 1, last_path: "/api/admin/jobs" },
    ]);
  });

  it("refuses an Authorization header that is not a bearer token", async () => {
    const ip = "198.51.100.9";
    for (const [i, header] of [
      "Basic dXNlcjpwYXNz",
      "Bearer",
      "Bearer a b",
      "token abc",
    ].entries()) {
      const response = await call(app, "GET", "/api/admin/jobs", {
        headers: { authorization: header, "cf-connecting-ip": ip },
      });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="regent"');
      expect(Object.values(await refusals(ip))).toEqual([
        { reason: "token:malformed", count: i + 1, last_path: "/api/admin/jobs" },
      ]);
    }
  });

  it("audits a viewer refused a change as AUTH_DENIED under its own actor, with the role that was needed", async () => {
    // A viewer not refused this route yet this hour: its first refusal is the one audited.
    const fresh = await createTokens(t.db);
    const counted = await refusals();
    const response = await call(app, "POST", "/api/admin/retry-intents", {
      token: fresh.viewer,
      headers: fromClient,
      body: { sourceJobId: ids.failedForIntent, reasonCode: "OTHER", reasonText: "x" },
    });
    expect(response.status).toBe(403);
    expect(response.body.error.details).toEqual({ requiredRole: "admin" });
    const [event] = (
      await t.raw.query(
        "SELECT actor, ip, request_id, data FROM audit_events WHERE type = 'AUTH_DENIED' ORDER BY id DESC LIMIT 1",
      )
    ).rows;
    expect(event).toMatchObject({
      actor: fresh.actors.viewer,
      ip: CLIENT_IP,
      request_id: response.headers.get("x-request-id"),
      data: {
        reason: "forbidden role",
        method: "POST",
        path: "/api/admin/retry-intents",
        principal: fresh.actors.viewer,
        roles: ["viewer"],
        requiredRole: "admin",
      },
    });
    expect(await refusals()).toEqual(counted);
  });

  it("keeps 1,000 anonymous refused requests out of the audit log: a handful of counted rows", async () => {
    const eventsBefore = await auditCount();
    const rowsBefore = (await t.raw.query("SELECT count(*)::int AS n FROM auth_refusals")).rows[0]
      .n;
    // No credentials, a guessed token, a malformed header, a revoked token: 4 reasons.
    const credentials = (i: number): Record<string, string> =>
      [
        {},
        { authorization: `Bearer rgt_guess-${i}` },
        { authorization: `Basic ${i}` },
        { authorization: `Bearer ${tokens.revoked}` },
      ][i % 4] ?? {};
    const sent = Array.from({ length: 1000 }, (_, i) => ({
      ip: `203.0.113.${i % 3}`,
      path: `/api/admin/jobs/${i}`,
      headers: credentials(i),
    }));
    for (let i = 0; i < sent.length; i += 50) {
      const batch = sent
        .slice(i, i + 50)
        .map(({ ip, path, headers }) =>
          call(app, "GET", path, { headers: { ...headers, "cf-connecting-ip": ip } }),
        );
      for (const response of await Promise.all(batch)) expect(response.status).toBe(401);
    }
    expect(await auditCount()).toBe(eventsBefore);
    const after = await t.raw.query<{ ip: string; reason: string; count: number }>(
      "SELECT ip, reason, sum(count)::int AS count FROM auth_refusals WHERE ip LIKE '203.0.113.%' GROUP BY ip, reason",
    );
    // 3 addresses × 4 reasons, each hour: 12 rows, or 24 if the hour turned meanwhile.
    const rowsAfter = (await t.raw.query("SELECT count(*)::int AS n FROM auth_refusals")).rows[0].n;
    expect(rowsAfter - rowsBefore).toBeLessThanOrEqual(24);
    expect(after.rows).toHaveLength(12);
    expect(after.rows.reduce((sum, row) => sum + row.count, 0)).toBe(1000);
  });

  it("checks credentials before looking at the request, so nothing leaks to strangers", async () => {
    const response = await call(app, "POST", "/api/admin/retry-intents", {
      body: { nonsense: true },
    });
    expect(response.status).toBe(401);
    const missing = await call(app, "GET", "/api/admin/jobs/doesnotexist");
    expect(missing.status).toBe(401);
  });
});

describe("a submitter sees only its own jobs", () => {
  it("reads its own job with its output", async () => {
    const response = await call(app, "GET", `/api/jobs/${ids.submittersJob}`, {
      token: tokens.submitter,
    });
    expect(response.status).toBe(200);
    expect(response.body.job).toMatchObject({
      id: ids.submittersJob,
      createdBy: tokens.actors.submitter,
      status: "PENDING",
    });
    expect(response.body.output).toBeNull();
  });

  it("gets 404 JOB_NOT_FOUND for someone else's job, exactly as for a missing one", async () => {
    const others = await call(app, "GET", `/api/jobs/${ids.submittersJob}`, {
      token: tokens.otherSubmitter,
    });
    const missing = await call(app, "GET", "/api/jobs/zzzzzzzzzzzzzzzzzzzzzzzz", {
      token: tokens.otherSubmitter,
    });
    expect(others.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(others.body.error.code).toBe("JOB_NOT_FOUND");
    expect(missing.body.error.code).toBe("JOB_NOT_FOUND");
    expect(Object.keys(others.body.error).sort()).toEqual(Object.keys(missing.body.error).sort());
  });

  it("records the submitting principal as the job's creator", async () => {
    const response = await call(app, "POST", "/api/jobs", {
      token: tokens.otherSubmitter,
      body: { generator: "demo", input: { text: "hello" } },
    });
    expect(response.status).toBe(201);
    expect(response.body.job.createdBy).toBe(tokens.actors.otherSubmitter);
    const own = await call(app, "GET", `/api/jobs/${response.body.job.id}`, {
      token: tokens.otherSubmitter,
    });
    expect(own.status).toBe(200);
  });
});

describe("a known principal calling what its role may not", () => {
  it("is audited once per route and hour, and counted after that: 200 calls make 2 events", async () => {
    const submitter = await createTokens(t.db);
    const actor = submitter.actors.submitter;
    const events = async () =>
      (await authDenials()).filter((e) => e.actor === actor).map((e) => e.data.route);
    const calls = Array.from({ length: 100 }, (_, i) =>
      call(app, "GET", `/api/admin/jobs/${"x".repeat(8)}${i}`, { token: submitter.submitter }),
    );
    for (const response of await Promise.all(calls)) expect(response.status).toBe(403);
    for (let i = 0; i < 100; i++) {
      expect(
        (await call(app, "GET", "/api/admin/retry-intents", { token: submitter.submitter })).status,
      ).toBe(403);
    }
    expect((await events()).sort()).toEqual([
      "GET /api/admin/jobs/:id",
      "GET /api/admin/retry-intents",
    ]);
    const { rows } = await t.raw.query(
      "SELECT route, count FROM auth_denials WHERE actor = $1 ORDER BY route",
      [actor],
    );
    expect(rows).toEqual([
      { route: "GET /api/admin/jobs/:id", count: 100 },
      { route: "GET /api/admin/retry-intents", count: 100 },
    ]);
  });
});
