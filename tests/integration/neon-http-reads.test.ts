/**
 * The reads of the API and the admin page over the API Worker's DATABASE_DRIVER=http (Neon's
 * SQL-over-HTTP, one HTTPS request per statement) answer exactly what they answer over
 * node-postgres, and each takes one request to the database: the read, which proves its caller too.
 * The JSON columns of the one-statement reads are parsed by another driver here, so this is
 * where a difference in types would show.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNeonHttp } from "../../db/neon";
import type { Database } from "../../db/types";
import { encodeCursor } from "../../functions/domain/pagination";
import { createRetryBatch, previewRetryBatch } from "../../functions/domain/retry-batches";
import { AdminClient, adminApp, token } from "../helpers/admin";
import { type ApiApp, call, createTokens, type Tokens, testApp } from "../helpers/api";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, completeJob, failedChain, failedJobOf, pendingIntent } from "../helpers/fixtures";
import { startNeonHttp } from "../helpers/neon-http";

let t: TestDatabase;
let http: Database;
let endpoint: Awaited<ReturnType<typeof startNeonHttp>>;
let tokens: Tokens;
let overPg: ApiApp;
let overHttp: ApiApp;
let pagesOverPg: AdminClient;
let pagesOverHttp: AdminClient;
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await freshDatabase();
  endpoint = await startNeonHttp();
  http = connectNeonHttp(t.url, { endpoint: endpoint.endpoint });
  tokens = await createTokens(t.db);
  overPg = testApp(t.db);
  overHttp = testApp(http.db);
  const alice = await token(t.db, "admin", "alice");
  pagesOverPg = new AdminClient(adminApp({ db: t.db }));
  pagesOverHttp = new AdminClient(adminApp({ db: http.db }));
  await pagesOverPg.signIn(alice.secret);
  await pagesOverHttp.signIn(alice.secret);

  const chain = await failedChain(t.db, 2, { code: "HTTP_READS" });
  ids.job = chain.id;
  ids.intent = await pendingIntent(t.db);
  const done = await call(overPg, "POST", "/api/jobs", {
    token: tokens.admin,
    body: { generator: "http", input: "123" },
  });
  ids.done = done.body.job.id;
  await completeJob(t.db, done.body.job.id, { text: "done", n: 12345678901234 });
  await failedJobOf(t.db, "demo", "HTTP_BATCH");
  const preview = await previewRetryBatch(t.db, { errorCode: "HTTP_BATCH" });
  const batch = await createRetryBatch(t.db, admin, {
    filter: { errorCode: "HTTP_BATCH" },
    previewToken: preview.previewToken,
    reasonCode: "OTHER",
    reasonText: "over http",
  });
  ids.batch = batch.id;
});

afterAll(async () => {
  await http?.close();
  await endpoint?.close();
});

describe("reads over Neon's SQL-over-HTTP driver", () => {
  it("answer every API read as node-postgres does, in one request each", async () => {
    const paths = [
      `/api/jobs/${ids.done}`,
      `/api/admin/jobs/${ids.job}`,
      `/api/admin/jobs?limit=2`,
      `/api/admin/jobs?limit=2&cursor=${encodeCursor(ids.job ?? "")}`,
      `/api/admin/retry-intents/${ids.intent}`,
      `/api/admin/retry-intents?status=CONSUMED`,
      `/api/admin/retry-batches/${ids.batch}`,
      `/api/admin/retry-batches`,
      `/api/admin/audit?subjectId=${ids.intent}`,
    ];
    for (const path of paths) {
      const expected = await call(overPg, "GET", path, { token: tokens.admin });
      const before = endpoint.requests();
      const got = await call(overHttp, "GET", path, { token: tokens.admin });
      expect(endpoint.requests() - before, path).toBe(1);
      expect(got.status, path).toBe(200);
      expect(got.body, path).toEqual(expected.body);
    }
    const own = await call(overHttp, "GET", `/api/jobs/${ids.done}`, { token: tokens.admin });
    expect(own.body.job.input).toBe("123");
    expect(own.body.output.content).toEqual({ text: "done", n: 12345678901234 });
  });

  it("render every admin page as node-postgres does, in one request each", async () => {
    const paths = [
      "/admin",
      "/admin?status=all",
      `/admin/jobs/${ids.job}`,
      `/admin/jobs/${ids.job}/retry-intents`,
      "/admin/retry-intents?status=all",
      `/admin/retry-intents/${ids.intent}`,
      "/admin/retry-batches",
      "/admin/retry-batches/new?errorCode=HTTP_READS",
      `/admin/retry-batches/${ids.batch}`,
      "/admin/audit",
      "/admin/signals",
    ];
    for (const path of paths) {
      const expected = await pagesOverPg.page(path);
      const before = endpoint.requests();
      const got = await pagesOverHttp.page(path);
      expect(endpoint.requests() - before, path).toBe(1);
      expect(got.res.status, path).toBe(200);
      // The two sessions differ; everything else on the page is the same.
      const same = (html: string) => html.replace(/name="_csrf" value="[^"]+"/g, "");
      expect(same(got.html), path).toBe(same(expected.html));
    }
  });
});
