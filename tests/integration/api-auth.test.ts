import { beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../functions/domain/canonical-json";
import { submitJob } from "../../functions/domain/jobs";
import {
  type ApiApp,
  call,
  createTokens,
  type JsonBody,
  type Tokens,
  testApp,
} from "../helpers/api";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { failedJob, pendingIntent } from "../helpers/fixtures";

/**
 * Every route against every kind of caller. Refusals are 401 (who are you?) or 403 (not you),
 * both audited; the same request with the right role succeeds.
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

beforeAll(async () => {
  t = await freshDatabase();
  app = testApp(t.db);
  tokens = await createTokens(t.db);
  const submitterActor = { actor: tokens.actors.submitter };
  ids.submittersJob = (
    await submitJob(t.db, submitterActor, { generator: "demo", input: { text: "mine" } })
  ).id;
  ids.failedForIntent = (await failedJob(t.db)).id;
  ids.intentToExecute = await pendingIntent(t.db);
  ids.intentToReject = await pendingIntent(t.db, "maybe");
});

describe("every route × every caller", () => {
  const cases = ROUTES.flatMap((route) => WHO.map((who) => ({ route, who })));
  it.each(cases.map((c) => [`${c.route.method} ${c.route.template} as ${c.who}`, c] as const))(
    "%s",
    async (_name, { route, who }) => {
      const before = (await authDenials()).length;
      const response = await call(app, route.method, route.path(), {
        token: tokenOf(who),
        ...(route.body ? { body: route.body(who) } : {}),
      });
      const status = expected(route, who);
      expect(response.status, JSON.stringify(response.body)).toBe(status);
      expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      const denials = await authDenials();
      if (status === 401 || status === 403) {
        expect(response.body.error.code).toBe(status === 401 ? "UNAUTHENTICATED" : "FORBIDDEN");
        expect(response.body.error.requestId).toBe(response.headers.get("x-request-id"));
        // Exactly one event for the refused request, about that request.
        expect(denials.length).toBe(before + 1);
        const event = denials.at(-1);
        expect(event?.subject_id).toBe(response.body.error.requestId);
        expect(event?.actor).toBe("anonymous");
        expect(event?.data.path).toBe(route.path().split("?")[0]);
        const reason = { none: "missing", bad: "unknown", revoked: "revoked" }[who as string];
        expect(event?.data.reason).toBe(reason ?? "forbidden role");
      } else {
        expect(denials.length).toBe(before);
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
  it("never stores the presented secret or its hash in the audit trail", async () => {
    const secret = "rgt_a-secret-someone-guessed-0123456789";
    const response = await call(app, "GET", "/api/admin/jobs", { token: secret });
    expect(response.status).toBe(401);
    const hash = await sha256Hex(secret);
    const { rows } = await t.raw.query(
      "SELECT count(*)::int AS n FROM audit_events WHERE data::text LIKE $1 OR data::text LIKE $2",
      [`%${secret}%`, `%${hash}%`],
    );
    expect(rows[0].n).toBe(0);
  });

  it("names the revoked token by id, not by secret", async () => {
    const response = await call(app, "GET", "/api/admin/jobs", { token: tokens.revoked });
    expect(response.status).toBe(401);
    expect(response.body.error.message).toMatch(/revoked/);
    const event = (await authDenials()).at(-1);
    expect(event?.data).toMatchObject({
      reason: "revoked",
      via: "token",
      tokenId: tokens.actors.revoked.slice("token:".length),
    });
    expect(JSON.stringify(event?.data)).not.toContain(tokens.revoked);
  });

  it("refuses an Authorization header that is not a bearer token", async () => {
    for (const header of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "token abc"]) {
      const response = await call(app, "GET", "/api/admin/jobs", {
        headers: { authorization: header },
      });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="regent"');
      expect((await authDenials()).at(-1)?.data.reason).toBe("malformed");
    }
  });

  it("records who was refused a role, with the role that was needed", async () => {
    const response = await call(app, "POST", "/api/admin/retry-intents", {
      token: tokens.viewer,
      body: { sourceJobId: ids.failedForIntent, reasonCode: "OTHER", reasonText: "x" },
    });
    expect(response.status).toBe(403);
    expect(response.body.error.details).toEqual({ requiredRole: "admin" });
    expect((await authDenials()).at(-1)?.data).toMatchObject({
      reason: "forbidden role",
      principal: tokens.actors.viewer,
      roles: ["viewer"],
      requiredRole: "admin",
    });
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
