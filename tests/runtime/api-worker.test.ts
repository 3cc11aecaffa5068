import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "../../functions/domain/api-tokens";
import { CLOUDFLARE_AUTH_LIMIT } from "../../functions/domain/auth-limiter";
import type { JsonBody } from "../helpers/api";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { failJob } from "../helpers/fixtures";
import { startNeonHttp } from "../helpers/neon-http";
import { bundleWorker, runInWorkerd, type WorkerBundle, withPassword } from "../helpers/workerd";
import { startWsProxy } from "../helpers/ws-proxy";

/**
 * The API Worker as Cloudflare runs it: functions/api.ts bundled for workerd and served by
 * Miniflare, reaching the test's PostgreSQL through the Neon driver, once over a WebSocket
 * pool and a local WebSocket proxy (the default), once over SQL-over-HTTP and a local stand-in
 * for Neon's endpoint (DATABASE_DRIVER=http).
 */
let t: TestDatabase;
let proxy: Awaited<ReturnType<typeof startWsProxy>>;
let neonHttp: Awaited<ReturnType<typeof startNeonHttp>>;
let bundle: WorkerBundle;
let admin: string;
let submitter: string;
const bootstrapToken = `bootstrap-${crypto.randomUUID()}`;

beforeAll(async () => {
  t = await freshDatabase();
  proxy = await startWsProxy();
  neonHttp = await startNeonHttp();
  bundle = await bundleWorker("functions/api.ts");
  admin = (await createApiToken(t.db, { actor: "test" }, { name: "admin", role: "admin" })).token;
  submitter = (await createApiToken(t.db, { actor: "test" }, { name: "sub", role: "submitter" }))
    .token;
});
afterAll(async () => {
  await proxy?.close();
  await neonHttp?.close();
});

describe.each(["websocket", "http"] as const)("DATABASE_DRIVER=%s", (driver) => {
  let mf: Miniflare;
  beforeAll(() => {
    mf = runInWorkerd(bundle, {
      DATABASE_URL: withPassword(t.url),
      NEON_WS_PROXY: proxy.address,
      DATABASE_DRIVER: driver,
      NEON_HTTP_ENDPOINT: neonHttp.endpoint,
      SESSION_SECRET: "a-session-secret-of-at-least-32-characters",
      REGENT_BOOTSTRAP_ADMIN_TOKEN: bootstrapToken,
    });
  });
  afterAll(async () => {
    await mf?.dispose();
  });

  async function call(method: string, path: string, token?: string, body?: unknown) {
    const response = await mf.dispatchFetch(`https://regent.example${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        "cf-connecting-ip": "203.0.113.7",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: response.status,
      body: (await response.json()) as JsonBody,
      headers: response.headers,
    };
  }

  describe("the API Worker (functions/api.ts) in workerd", () => {
    it("bundles without Node-only drivers and without any generator", () => {
      expect(bundle.externals).toEqual([]);
      expect(
        bundle.inputs.filter((f) => /node_modules\/(pg|pg-pool|@electric-sql)\//.test(f)),
      ).toEqual([]);
      expect(bundle.inputs.filter((f) => f.includes("functions/execution/"))).toEqual([]);
    });

    it("answers /healthz after a round trip to the database", async () => {
      const response = await mf.dispatchFetch("https://regent.example/healthz");
      expect(response.status).toBe(200);
    });

    it("refuses a request without credentials with a JSON 401 and a request id", async () => {
      const { status, body, headers } = await call("GET", "/api/admin/jobs");
      expect(status).toBe(401);
      expect(body.error).toMatchObject({
        code: "UNAUTHENTICATED",
        requestId: headers.get("x-request-id"),
      });
    });

    it("runs the retry flow; of 10 concurrent executes exactly one creates the job", async () => {
      const submitted = await call("POST", "/api/jobs", submitter, {
        generator: "demo",
        input: { text: "edge" },
      });
      expect(submitted.status).toBe(201);
      const jobId: string = submitted.body.job.id;
      await failJob(t.db, jobId);
      expect((await call("GET", `/api/jobs/${jobId}`, submitter)).body.job.status).toBe("FAILED");

      const intent = await call("POST", "/api/admin/retry-intents", admin, {
        sourceJobId: jobId,
        reasonCode: "INFRA_ERROR",
        reasonText: "the edge lost its database for a moment",
      });
      expect(intent.status).toBe(201);
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          call("POST", `/api/admin/retry-intents/${intent.body.intent.id}/execute`, admin),
        ),
      );
      const created = results.filter((r) => r.status === 201);
      expect(created).toHaveLength(1);
      const newJobId = created[0]?.body.job.id;
      for (const r of results.filter((r) => r.status !== 201)) {
        expect(r).toMatchObject({
          status: 409,
          body: { error: { code: "INTENT_NOT_PENDING", details: { jobId: newJobId } } },
        });
      }
      const { rows } = await t.raw.query(
        "SELECT ip, actor FROM audit_events WHERE type = 'RETRY_INTENT_EXECUTED' AND subject_id = $1",
        [intent.body.intent.id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].ip).toBe("203.0.113.7");
    });

    it("serves the admin page's sign-in with its security headers", async () => {
      const response = await mf.dispatchFetch("https://regent.example/admin/login");
      expect(response.status).toBe(200);
      expect(response.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
      expect(await response.text()).toMatch(/<label[^>]*for="token"/);
    });

    it("ensures the bootstrap admin token on its first request", async () => {
      const { status } = await call("GET", "/api/admin/jobs", bootstrapToken);
      expect(status).toBe(200);
      const { rows } = await t.raw.query(
        "SELECT count(*)::int AS n FROM api_tokens WHERE name = 'bootstrap-admin'",
      );
      expect(rows[0].n).toBe(1);
    });

    it("answers a misconfigured deployment with a JSON 500 that reveals nothing", async () => {
      const broken = runInWorkerd(bundle, {});
      try {
        const response = await broken.dispatchFetch("https://regent.example/api/admin/jobs");
        expect(response.status).toBe(500);
        const body = (await response.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe("INTERNAL");
        expect(body.error.message).not.toMatch(/DATABASE_URL|postgres/);
      } finally {
        await broken.dispose();
      }
    });
  });
});

describe("the API Worker over SQL-over-HTTP: round trips as the bundle makes them", () => {
  it("makes 1 request to the endpoint for a submit, an intent, an execute and a GET: the caller is proved in it", async () => {
    const mf = runInWorkerd(bundle, {
      DATABASE_URL: withPassword(t.url),
      DATABASE_DRIVER: "http",
      NEON_HTTP_ENDPOINT: neonHttp.endpoint,
      SESSION_SECRET: "a-session-secret-of-at-least-32-characters",
    });
    try {
      const counted = async (method: string, path: string, token: string, body?: unknown) => {
        const before = neonHttp.requests();
        const response = await mf.dispatchFetch(`https://regent.example${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const json = (await response.json()) as JsonBody;
        return { status: response.status, body: json, requests: neonHttp.requests() - before };
      };
      // The isolate's first submission of a generator reads its input schema from the
      // catalog (a refusal that carries it); every later one checks the input in the isolate.
      const first = await counted("POST", "/api/jobs", submitter, {
        generator: "demo",
        input: { text: "learns" },
      });
      expect(first).toMatchObject({ status: 201, requests: 2 });
      const submitted = await counted("POST", "/api/jobs", submitter, {
        generator: "demo",
        input: { text: "counted" },
      });
      expect(submitted).toMatchObject({ status: 201, requests: 1 });
      await failJob(t.db, submitted.body.job.id);
      const read = await counted("GET", `/api/admin/jobs/${submitted.body.job.id}`, admin);
      expect(read).toMatchObject({ status: 200, requests: 1 });
      const intent = await counted("POST", "/api/admin/retry-intents", admin, {
        sourceJobId: submitted.body.job.id,
        reasonCode: "INFRA_ERROR",
        reasonText: "counted over http",
      });
      expect(intent).toMatchObject({ status: 201, requests: 1 });
      const executed = await counted(
        "POST",
        `/api/admin/retry-intents/${intent.body.intent.id}/execute`,
        admin,
      );
      expect(executed).toMatchObject({ status: 201, requests: 1 });
    } finally {
      await mf.dispose();
    }
  });
});

describe("the failed-authentication limit in workerd, over Cloudflare's rate-limit binding", () => {
  const LIMIT = 3;
  let mf: Miniflare;
  beforeAll(() => {
    mf = runInWorkerd(
      bundle,
      {
        DATABASE_URL: withPassword(t.url),
        DATABASE_DRIVER: "http",
        NEON_HTTP_ENDPOINT: neonHttp.endpoint,
        SESSION_SECRET: "a-session-secret-of-at-least-32-characters",
      },
      { rateLimits: { [CLOUDFLARE_AUTH_LIMIT.binding]: { limit: LIMIT, period: 60 } } },
    );
  });
  afterAll(async () => {
    await mf?.dispose();
  });

  /** A GET of the jobs list from `ip`, with the statements it sent to the database. */
  async function list(ip: string, token: string) {
    const before = neonHttp.requests();
    const response = await mf.dispatchFetch("https://regent.example/api/admin/jobs", {
      headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": ip },
    });
    const body = (await response.json()) as JsonBody;
    return { response, body, requests: neonHttp.requests() - before };
  }

  it("never calls the binding for a success: successes leave the failures' budget whole", async () => {
    const ip = "198.51.100.20";
    // Were successes counted, the binding would refuse this address long before the failures.
    for (let i = 0; i < 4 * LIMIT; i++) expect((await list(ip, admin)).response.status).toBe(200);
    for (let i = 0; i < LIMIT; i++) {
      expect((await list(ip, `rgt_guess-${i}`)).response.status).toBe(401);
    }
    expect((await list(ip, admin)).response.status).toBe(200);
  });

  it("refuses an address the binding refused, in the isolate and before the database, and no other", async () => {
    const ip = "198.51.100.21";
    // The binding counts in windows of its period: the failure it refuses answers 401 and
    // limits the address, one more window at most if the minute turned meanwhile.
    let failures = 0;
    let refused = await list(ip, "rgt_guess-first");
    while (refused.response.status === 401 && failures < 2 * LIMIT + 2) {
      failures++;
      refused = await list(ip, `rgt_guess-${failures}`);
    }
    expect(failures).toBeGreaterThan(LIMIT);
    expect(refused.response.status).toBe(429);
    expect(refused.response.headers.get("retry-after")).toBe(
      String(CLOUDFLARE_AUTH_LIMIT.periodSeconds),
    );
    expect(refused.body.error.code).toBe("TOO_MANY_REQUESTS");
    expect(refused.requests).toBe(0);
    // The right token from there waits too; from elsewhere it is served.
    const right = await list(ip, admin);
    expect(right.response.status).toBe(429);
    expect(right.requests).toBe(0);
    expect((await list("198.51.100.22", admin)).response.status).toBe(200);
  });
});
