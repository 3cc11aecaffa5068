/**
 * Round trips per request: every statement the server sends to PostgreSQL for one successful
 * request, counted at the driver (tests/helpers/round-trips.ts). node-postgres answers one
 * statement before it sends the next, so each is one sequential round trip; at the edge each
 * costs the distance to the database. The counts are exact, so a change that adds a statement
 * to a route fails here; they are counts, not timings.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeCursor } from "../../functions/domain/pagination";
import { createRetryBatch, previewRetryBatch } from "../../functions/domain/retry-batches";
import { accessTeam } from "../helpers/access";
import { AdminClient, adminApp, csrfOf, token } from "../helpers/admin";
import { type ApiApp, call, createTokens, type Tokens, testApp } from "../helpers/api";
import type { TestDatabase } from "../helpers/db";
import { admin, failedJob, failedJobOf, pendingIntent } from "../helpers/fixtures";
import { countingDatabase, type RoundTripCounter } from "../helpers/round-trips";

let t: TestDatabase;
let counter: RoundTripCounter;
let api: ApiApp;
let tokens: Tokens;
let page: AdminClient;
let csrf: string;

/**
 * Every API route answers in one round trip, authentication included: the credential (the
 * bearer token's hash) is proved by the database in the statement that does the route's work
 * (a single SELECT, or one call of a `regent_…` function).
 */
const ROUND_TRIPS = 1;

/**
 * Every admin page answers in one round trip too: its session is proved, and the page's
 * context read, in the statement that does the page's read or write.
 */
const PAGE_ROUND_TRIPS = 1;

/** What each route measured, printed at the end as one table. */
const measured = new Map<string, number>();

beforeAll(async () => {
  const counting = await countingDatabase();
  t = counting.database;
  counter = counting;
  api = testApp(counter.db);
  tokens = await createTokens(t.db);
  page = new AdminClient(adminApp({ db: counter.db }));
  const alice = await token(t.db, "admin", "alice");
  expect((await page.signIn(alice.secret)).status).toBe(303);
  csrf = csrfOf((await page.page("/admin")).html);
});

afterAll(() => {
  const width = Math.max(...[...measured.keys()].map((k) => k.length));
  const lines = [...measured].map(([route, n]) => `${route.padEnd(width)}  ${n}`);
  console.log(`round trips per request\n${lines.join("\n")}`);
});

/**
 * Counts the statements of one request, checks it succeeded with `status`, and asserts the
 * count: exactly ROUND_TRIPS, so that a route that gains a statement fails here.
 */
async function expectRoundTrips(
  route: string,
  request: () => Promise<{ status: number; detail?: unknown }>,
  status: number,
  expected = route.startsWith("/admin") ||
  route.startsWith("GET /admin") ||
  route.startsWith("POST /admin")
    ? PAGE_ROUND_TRIPS
    : ROUND_TRIPS,
): Promise<void> {
  const { result, count, statements } = await counter.measure(request);
  measured.set(route, count);
  expect(result.status, JSON.stringify(result.detail)).toBe(status);
  expect.soft(count, `${route} sent:\n${statements.join("\n")}`).toBe(expected);
}

const apiCall =
  (method: string, path: string, options: Parameters<typeof call>[3] = {}) =>
  async () => {
    const res = await call(api, method, path, options);
    return { status: res.status, detail: res.body };
  };

const adminGet = (path: string) => async () => {
  const res = await page.request(path);
  return { status: res.status, detail: res.status === 200 ? undefined : await res.text() };
};

const adminPost =
  (path: string, fields: Record<string, string> = {}) =>
  async () => {
    const res = await page.post(path, fields, { csrf });
    return { status: res.status, detail: res.status === 303 ? undefined : await res.text() };
  };

describe("the API", () => {
  it("submit: the first of a generator reads its input schema (2), every later one is 1", async () => {
    await expectRoundTrips(
      "POST /api/jobs (first of its generator in this server)",
      apiCall("POST", "/api/jobs", {
        token: tokens.submitter,
        body: { generator: "demo", input: { text: "learns the schema" } },
      }),
      201,
      2,
    );
    await expectRoundTrips(
      "POST /api/jobs",
      apiCall("POST", "/api/jobs", {
        token: tokens.submitter,
        body: { generator: "demo", input: { text: "counted" } },
      }),
      201,
    );
  });

  it("submit with an Idempotency-Key, then its replay", async () => {
    const options = {
      token: tokens.submitter,
      body: { generator: "demo", input: { text: "keyed" } },
      headers: { "idempotency-key": "round-trips-1" },
    };
    await expectRoundTrips(
      "POST /api/jobs (Idempotency-Key)",
      apiCall("POST", "/api/jobs", options),
      201,
    );
    await expectRoundTrips(
      "POST /api/jobs (Idempotency-Key replay)",
      apiCall("POST", "/api/jobs", options),
      201,
    );
  });

  it("create intent", async () => {
    const job = await failedJob(t.db);
    await expectRoundTrips(
      "POST /api/admin/retry-intents",
      apiCall("POST", "/api/admin/retry-intents", {
        token: tokens.admin,
        body: { sourceJobId: job.id, reasonCode: "OTHER", reasonText: "counted" },
      }),
      201,
    );
  });

  it("execute", async () => {
    const intentId = await pendingIntent(t.db);
    await expectRoundTrips(
      "POST /api/admin/retry-intents/:id/execute",
      apiCall("POST", `/api/admin/retry-intents/${intentId}/execute`, { token: tokens.admin }),
      201,
    );
  });

  it("reject", async () => {
    const intentId = await pendingIntent(t.db);
    await expectRoundTrips(
      "POST /api/admin/retry-intents/:id/reject",
      apiCall("POST", `/api/admin/retry-intents/${intentId}/reject`, {
        token: tokens.admin,
        body: { reasonText: "not now" },
      }),
      200,
    );
  });

  it("GET job, GET intent, the lists and the audit", async () => {
    const intentId = await pendingIntent(t.db);
    const job = await failedJob(t.db);
    const own = await call(api, "POST", "/api/jobs", {
      token: tokens.submitter,
      body: { generator: "demo", input: { text: "mine" } },
    });
    await expectRoundTrips(
      "GET /api/jobs/:id",
      apiCall("GET", `/api/jobs/${own.body.job.id}`, { token: tokens.submitter }),
      200,
    );
    await expectRoundTrips(
      "GET /api/admin/jobs/:id",
      apiCall("GET", `/api/admin/jobs/${job.id}`, { token: tokens.viewer }),
      200,
    );
    await expectRoundTrips(
      "GET /api/admin/jobs",
      apiCall("GET", "/api/admin/jobs", { token: tokens.viewer }),
      200,
    );
    // A later page: the cursor is checked in the same statement that reads the page.
    await expectRoundTrips(
      "GET /api/admin/jobs?cursor",
      apiCall("GET", `/api/admin/jobs?status=FAILED&cursor=${encodeCursor(job.id)}`, {
        token: tokens.viewer,
      }),
      200,
    );
    await expectRoundTrips(
      "GET /api/admin/retry-intents/:id",
      apiCall("GET", `/api/admin/retry-intents/${intentId}`, { token: tokens.viewer }),
      200,
    );
    await expectRoundTrips(
      "GET /api/admin/retry-intents",
      apiCall("GET", "/api/admin/retry-intents", { token: tokens.viewer }),
      200,
    );
    await expectRoundTrips(
      "GET /api/admin/retry-intents?cursor",
      apiCall("GET", `/api/admin/retry-intents?cursor=${encodeCursor(intentId)}`, {
        token: tokens.viewer,
      }),
      200,
    );
    await expectRoundTrips(
      "GET /api/admin/audit",
      apiCall("GET", "/api/admin/audit", { token: tokens.viewer }),
      200,
    );
    await expectRoundTrips(
      "GET /api/admin/audit?cursor",
      apiCall("GET", `/api/admin/audit?subjectId=${job.id}&cursor=${encodeCursor("1000000")}`, {
        token: tokens.viewer,
      }),
      200,
    );
    await expectRoundTrips(
      "GET /metrics",
      apiCall("GET", "/metrics", { token: tokens.viewer }),
      200,
    );
    await expectRoundTrips(
      "GET /api/admin/metrics",
      apiCall("GET", "/api/admin/metrics", { token: tokens.viewer }),
      200,
    );
  });

  it("batch preview, approve, GET, list, execute, reject", async () => {
    await failedJobOf(t.db, "demo", "COUNTED_BATCH");
    await failedJobOf(t.db, "demo", "COUNTED_BATCH");
    const filter = { errorCode: "COUNTED_BATCH" };
    await expectRoundTrips(
      "POST /api/admin/retry-batches/preview",
      apiCall("POST", "/api/admin/retry-batches/preview", {
        token: tokens.admin,
        body: { filter },
      }),
      200,
    );
    const shown = await call(api, "POST", "/api/admin/retry-batches/preview", {
      token: tokens.admin,
      body: { filter },
    });
    let batchId = "";
    await expectRoundTrips(
      "POST /api/admin/retry-batches",
      async () => {
        const res = await call(api, "POST", "/api/admin/retry-batches", {
          token: tokens.admin,
          body: {
            filter,
            previewToken: shown.body.previewToken,
            reasonCode: "TRANSIENT_FAILURE",
            reasonText: "counted",
          },
        });
        batchId = res.body.batch?.id;
        return { status: res.status, detail: res.body };
      },
      201,
    );
    await expectRoundTrips(
      "GET /api/admin/retry-batches/:id",
      apiCall("GET", `/api/admin/retry-batches/${batchId}`, { token: tokens.viewer }),
      200,
    );
    await expectRoundTrips(
      "GET /api/admin/retry-batches",
      apiCall("GET", "/api/admin/retry-batches", { token: tokens.viewer }),
      200,
    );
    await expectRoundTrips(
      "GET /api/admin/retry-batches?cursor",
      apiCall("GET", `/api/admin/retry-batches?cursor=${encodeCursor(batchId)}`, {
        token: tokens.viewer,
      }),
      200,
    );
    await expectRoundTrips(
      "POST /api/admin/retry-batches/:id/execute",
      apiCall("POST", `/api/admin/retry-batches/${batchId}/execute`, { token: tokens.admin }),
      200,
    );

    await failedJobOf(t.db, "demo", "COUNTED_REJECT");
    const rejectFilter = { errorCode: "COUNTED_REJECT" };
    const toReject = await previewRetryBatch(t.db, rejectFilter);
    const batch = await createRetryBatch(t.db, admin, {
      filter: rejectFilter,
      previewToken: toReject.previewToken,
      reasonCode: "OTHER",
      reasonText: "to reject",
    });
    await expectRoundTrips(
      "POST /api/admin/retry-batches/:id/reject",
      apiCall("POST", `/api/admin/retry-batches/${batch.id}/reject`, {
        token: tokens.admin,
        body: { reasonText: "not now" },
      }),
      200,
    );
  });
});

describe("the admin page", () => {
  it("sign-in and sign-out", async () => {
    const bob = await token(t.db, "admin", "bob");
    const other = new AdminClient(adminApp({ db: counter.db }));
    await expectRoundTrips(
      "POST /admin/login",
      async () => ({ status: (await other.signIn(bob.secret)).status }),
      303,
    );
    const otherCsrf = csrfOf((await other.page("/admin")).html);
    await expectRoundTrips(
      "POST /admin/logout",
      async () => ({ status: (await other.post("/admin/logout", {}, { csrf: otherCsrf })).status }),
      303,
    );
  });

  it("every GET page", async () => {
    const intentId = await pendingIntent(t.db);
    const job = await failedJob(t.db);
    await failedJobOf(t.db, "demo", "COUNTED_PAGE");
    const filter = { errorCode: "COUNTED_PAGE" };
    const preview = await previewRetryBatch(t.db, filter);
    const batch = await createRetryBatch(t.db, admin, {
      filter,
      previewToken: preview.previewToken,
      reasonCode: "OTHER",
      reasonText: "a page",
    });
    const pages: [string, string][] = [
      ["GET /admin", "/admin"],
      ["GET /admin?status=all", "/admin?status=all"],
      ["GET /admin?cursor", `/admin?status=all&cursor=${encodeCursor(job.id)}`],
      ["GET /admin/jobs/:id", `/admin/jobs/${job.id}`],
      ["GET /admin/jobs/:id/retry-intents", `/admin/jobs/${job.id}/retry-intents`],
      ["GET /admin/retry-intents", "/admin/retry-intents"],
      ["GET /admin/retry-intents?cursor", `/admin/retry-intents?cursor=${encodeCursor(intentId)}`],
      ["GET /admin/retry-intents/:id", `/admin/retry-intents/${intentId}`],
      ["GET /admin/retry-intents/:id/execute", `/admin/retry-intents/${intentId}/execute`],
      ["GET /admin/retry-batches", "/admin/retry-batches"],
      ["GET /admin/retry-batches?cursor", `/admin/retry-batches?cursor=${encodeCursor(batch.id)}`],
      ["GET /admin/retry-batches/new", "/admin/retry-batches/new?errorCode=COUNTED_PAGE"],
      ["GET /admin/retry-batches/:id", `/admin/retry-batches/${batch.id}`],
      ["GET /admin/retry-batches/:id/execute", `/admin/retry-batches/${batch.id}/execute`],
      ["GET /admin/audit", "/admin/audit"],
      ["GET /admin/audit?cursor", `/admin/audit?cursor=${encodeCursor("1000000")}`],
      ["GET /admin/signals", "/admin/signals"],
    ];
    for (const [route, path] of pages) {
      await expectRoundTrips(route, adminGet(path), 200);
    }
  });

  it("a page for a Cloudflare Access identity: no session, the same one statement", async () => {
    const team = await accessTeam({ admins: "ada@example.com" });
    const app = adminApp({ db: counter.db, env: team.env, accessKeys: team.keys });
    const headers = { "cf-access-jwt-assertion": await team.tokenFor("ada@example.com") };
    await expectRoundTrips(
      "GET /admin (Access)",
      async () => {
        const res = await app.request("http://localhost/admin", { headers });
        return { status: res.status, detail: res.status === 200 ? undefined : await res.text() };
      },
      200,
    );
  });

  it("every form", async () => {
    const job = await failedJob(t.db);
    await expectRoundTrips(
      "POST /admin/jobs/:id/retry-intents",
      adminPost(`/admin/jobs/${job.id}/retry-intents`, {
        reasonCode: "OTHER",
        reasonText: "from the page",
      }),
      303,
    );
    const toExecute = await pendingIntent(t.db);
    await expectRoundTrips(
      "POST /admin/retry-intents/:id/execute",
      adminPost(`/admin/retry-intents/${toExecute}/execute`),
      303,
    );
    const toReject = await pendingIntent(t.db);
    await expectRoundTrips(
      "POST /admin/retry-intents/:id/reject",
      adminPost(`/admin/retry-intents/${toReject}/reject`, { reasonText: "not now" }),
      303,
    );
    await failedJobOf(t.db, "demo", "COUNTED_FORM");
    const filter = { errorCode: "COUNTED_FORM" };
    const preview = await previewRetryBatch(t.db, filter);
    await expectRoundTrips(
      "POST /admin/retry-batches",
      adminPost("/admin/retry-batches", {
        errorCode: "COUNTED_FORM",
        previewToken: preview.previewToken,
        reasonCode: "OTHER",
        reasonText: "from the page",
      }),
      303,
    );
    const batchId = await createBatchOf(t.db, "COUNTED_FORM_EXECUTE");
    await expectRoundTrips(
      "POST /admin/retry-batches/:id/execute",
      adminPost(`/admin/retry-batches/${batchId}/execute`),
      303,
    );
    const rejectId = await createBatchOf(t.db, "COUNTED_FORM_REJECT");
    await expectRoundTrips(
      "POST /admin/retry-batches/:id/reject",
      adminPost(`/admin/retry-batches/${rejectId}/reject`, { reasonText: "not now" }),
      303,
    );
  });
});

/** A batch of one FAILED job whose error has `code`, approved through the domain. */
async function createBatchOf(db: TestDatabase["db"], code: string): Promise<string> {
  await failedJobOf(db, "demo", code);
  const filter = { errorCode: code };
  const preview = await previewRetryBatch(db, filter);
  const batch = await createRetryBatch(db, admin, {
    filter,
    previewToken: preview.previewToken,
    reasonCode: "OTHER",
    reasonText: "counted",
  });
  return batch.id;
}

describe("generators pages", () => {
  it("the list, both confirmations, pause and resume; every page while one is paused", async () => {
    // failedJobOf puts "counted" into the catalog, with a failure for the list to rate.
    await failedJobOf(t.db, "counted", "COUNTED_BRAKE");
    const pause = "/admin/generators/counted/pause";
    const resume = "/admin/generators/counted/resume";
    await expectRoundTrips("GET /admin/generators", adminGet("/admin/generators"), 200);
    await expectRoundTrips("GET /admin/generators/:name/pause", adminGet(pause), 200);
    await expectRoundTrips(
      "POST /admin/generators/:name/pause",
      adminPost(pause, { reasonText: "counted" }),
      303,
    );
    // The paused banner is read beside the caller, in the page's one statement.
    await expectRoundTrips("GET /admin (a generator paused)", adminGet("/admin"), 200);
    await expectRoundTrips(
      "GET /admin/generators (a generator paused)",
      adminGet("/admin/generators"),
      200,
    );
    await expectRoundTrips(
      "GET /admin/signals (a generator paused)",
      adminGet("/admin/signals"),
      200,
    );
    await expectRoundTrips("GET /admin/generators/:name/resume", adminGet(resume), 200);
    await expectRoundTrips(
      "POST /admin/generators/:name/resume",
      adminPost(resume, { reasonText: "counted" }),
      303,
    );
  });
});

describe("corrected inputs and supersessions", () => {
  /** A demo job submitted through the API, then claimed and completed as a worker would. */
  async function completedJob(text: string): Promise<string> {
    const { completeJob } = await import("../helpers/fixtures");
    const res = await call(api, "POST", "/api/jobs", {
      token: tokens.submitter,
      body: { generator: "demo", input: { text } },
    });
    await completeJob(t.db, res.body.job.id, { text: text.toUpperCase() });
    return res.body.job.id;
  }

  /** Where a form's redirect leads, counted as the form's own request. */
  const postFollowing =
    (path: string, fields: Record<string, string>, into: { location: string }) => async () => {
      const res = await page.post(path, fields, { csrf });
      into.location = res.headers.get("location") ?? "";
      return { status: res.status, detail: res.status === 303 ? undefined : await res.text() };
    };

  it("both forms with a corrected input, a supersession's intent, confirmation and execution, and the superseded job's page", async () => {
    // A demo job submitted through the domain first, so this process knows demo's input schema:
    // a corrected input is then checked in the form's one statement.
    const failed = await failedJob(t.db);
    await expectRoundTrips(
      "POST /admin/jobs/:id/retry-intents (corrected input)",
      adminPost(`/admin/jobs/${failed.id}/retry-intents`, {
        reasonCode: "BAD_INPUT",
        reasonText: "counted",
        correctedInput: '{"text": "fixed"}',
      }),
      303,
    );

    const old = await completedJob("counted wrng");
    await expectRoundTrips("GET /admin/jobs/:id (COMPLETED)", adminGet(`/admin/jobs/${old}`), 200);
    const created = { location: "" };
    await expectRoundTrips(
      "POST /admin/jobs/:id/supersede",
      postFollowing(
        `/admin/jobs/${old}/supersede`,
        {
          reasonCode: "IMPROVED_PROMPT",
          reasonText: "counted",
          correctedInput: '{"text": "counted wrong"}',
        },
        created,
      ),
      303,
    );
    const intentPath = created.location.split("?")[0] ?? "";
    await expectRoundTrips(
      "GET /admin/retry-intents/:id (supersede, corrected input)",
      adminGet(intentPath),
      200,
    );
    await expectRoundTrips(
      "GET /admin/retry-intents/:id/execute (supersede)",
      adminGet(`${intentPath}/execute`),
      200,
    );
    const executed = { location: "" };
    await expectRoundTrips(
      "POST /admin/retry-intents/:id/execute (supersede)",
      postFollowing(`${intentPath}/execute`, {}, executed),
      303,
    );
    const newJob = /\/admin\/jobs\/([^?]+)/.exec(executed.location)?.[1] ?? "";
    const { completeJob } = await import("../helpers/fixtures");
    await completeJob(t.db, newJob, { text: "COUNTED WRONG" });
    // The latest job's output is read in the page's one statement, beside its own.
    await expectRoundTrips(
      "GET /admin/jobs/:id (superseded, both outputs)",
      adminGet(`/admin/jobs/${old}`),
      200,
    );
    expect((await page.page(`/admin/jobs/${old}`)).html).toContain('id="comparison"');
  });
});
