import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonBody } from "../helpers/api";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { eventually, type StartedRegent, startRegent } from "../helpers/start-server";

/**
 * The whole product over real HTTP: `npm start` (API + worker loop) on a real PostgreSQL.
 * A demo job fails on its first attempt; an admin records and executes a RetryIntent; the
 * worker runs the new job to completion; the original stays as it was; the audit tells it all.
 * The worker loop ticks hourly: each job runs because the request that created it woke the loop.
 */
const adminToken = `e2e-${crypto.randomUUID()}`;
let t: TestDatabase;
let regent: StartedRegent;

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${regent.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      "user-agent": "regent-e2e",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as JsonBody };
}

beforeAll(async () => {
  t = await freshDatabase();
  regent = await startRegent({
    DATABASE_URL: t.url,
    REGENT_BOOTSTRAP_ADMIN_TOKEN: adminToken,
    WORKER_INTERVAL_MS: "3600000",
  });
});
afterAll(async () => {
  await regent?.stop();
});

describe("npm start, end to end", () => {
  it("says where it listens, how to sign in, and that the worker runs", () => {
    expect(regent.output()).toMatch(
      /Regent is running on http:\/\/127\.0\.0\.1:\d+ \(database: node-postgres\)/,
    );
    expect(regent.output()).toMatch(/REGENT_BOOTSTRAP_ADMIN_TOKEN/);
    expect(regent.output()).toMatch(
      /worker: an invocation every 3600000 ms and whenever jobs are created/,
    );
    expect(regent.output()).toMatch(/admin page: http:\/\/127\.0\.0\.1:\d+\/admin/);
  });

  it("serves the admin page: an API token signs in and the failed jobs list answers", async () => {
    const login = await fetch(`${regent.url}/admin/login`);
    expect(login.status).toBe(200);
    const signedIn = await fetch(`${regent.url}/admin/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: regent.url },
      body: new URLSearchParams({ token: adminToken }),
    });
    expect(signedIn.status).toBe(303);
    const cookie = signedIn.headers.get("set-cookie")?.split(";")[0] ?? "";
    expect(cookie).not.toBe("");
    const page = await fetch(`${regent.url}/admin`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/Failed/);
  });

  it("audits a change made through the admin page with the socket's address, whatever headers claim", async () => {
    const submitted = await api("POST", "/api/jobs", {
      generator: "demo",
      input: { text: "forged", failAttempts: 1 },
    });
    const jobId: string = submitted.body.job.id;
    await eventually(async () => {
      const { body } = await api("GET", `/api/jobs/${jobId}`);
      return body.job.status === "FAILED" ? body : undefined;
    }, "the job to fail");

    const signedIn = await fetch(`${regent.url}/admin/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: regent.url },
      body: new URLSearchParams({ token: adminToken }),
    });
    const cookie = signedIn.headers.get("set-cookie")?.split(";")[0] ?? "";
    const page = await (
      await fetch(`${regent.url}/admin/jobs/${jobId}`, { headers: { cookie } })
    ).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? "";
    const created = await fetch(`${regent.url}/admin/jobs/${jobId}/retry-intents`, {
      method: "POST",
      redirect: "manual",
      headers: {
        cookie,
        origin: regent.url,
        "content-type": "application/x-www-form-urlencoded",
        "x-forwarded-for": "203.0.113.66",
        "cf-connecting-ip": "198.51.100.66",
        "user-agent": "forging-browser",
      },
      body: new URLSearchParams({ reasonCode: "OTHER", reasonText: "ip check", _csrf: csrf }),
    });
    expect(created.status).toBe(303);

    const { rows } = await t.raw.query(
      `SELECT a.ip, a.user_agent FROM audit_events a JOIN retry_intents i ON i.id = a.subject_id
       WHERE i.source_job_id = $1 AND a.type = 'RETRY_INTENT_CREATED'`,
      [jobId],
    );
    expect(rows).toEqual([{ ip: "127.0.0.1", user_agent: "forging-browser" }]);
  });

  it("a failed job is recovered through a RetryIntent, as a new job, with every step audited", async () => {
    const submitted = await api("POST", "/api/jobs", {
      generator: "demo",
      input: { text: "hello regent", failAttempts: 1 },
    });
    expect(submitted.status).toBe(201);
    const originalId: string = submitted.body.job.id;

    const failed = await eventually(async () => {
      const { body } = await api("GET", `/api/jobs/${originalId}`);
      return body.job.status === "FAILED" ? body : undefined;
    }, "the first attempt to fail");
    expect(failed.job.error).toMatchObject({ code: "DEMO_FAILURE" });
    expect(failed.output).toBeNull();
    const originalBefore = (await api("GET", `/api/admin/jobs/${originalId}`)).body.job;

    const recorded = await api("POST", "/api/admin/retry-intents", {
      sourceJobId: originalId,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "the demo generator fails once on purpose",
    });
    expect(recorded.status).toBe(201);
    const intentId: string = recorded.body.intent.id;

    const executed = await api("POST", `/api/admin/retry-intents/${intentId}/execute`);
    expect(executed.status).toBe(201);
    expect(executed.body.intent.status).toBe("CONSUMED");
    const retryId: string = executed.body.job.id;
    expect(executed.body.job).toMatchObject({
      status: "PENDING",
      retryOfJobId: originalId,
      retryIntentId: intentId,
    });

    const completed = await eventually(async () => {
      const { body } = await api("GET", `/api/jobs/${retryId}`);
      return body.job.status === "COMPLETED" ? body : undefined;
    }, "the retry job to complete");
    expect(completed.output.content).toEqual({ text: "HELLO REGENT" });
    expect(completed.output.contentSha256).toMatch(/^[0-9a-f]{64}$/);

    const original = await api("GET", `/api/admin/jobs/${originalId}`);
    expect(original.body.job).toEqual(originalBefore);
    expect(original.body.output).toBeNull();
    expect(
      original.body.lineage.map(
        (entry: { id?: string; job?: { id: string } }) => entry.id ?? entry.job?.id,
      ),
    ).toEqual([originalId, retryId]);

    const again = await api("POST", `/api/admin/retry-intents/${intentId}/execute`);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: "INTENT_NOT_PENDING",
      details: { jobId: retryId },
    });

    const types = async (subjectId: string) =>
      (await api("GET", `/api/admin/audit?subjectId=${subjectId}&limit=50`)).body.items
        .map((event: { type: string }) => event.type)
        .reverse();
    expect(await types(originalId)).toEqual([
      "JOB_CREATED",
      "JOB_CLAIMED",
      "JOB_FAILED",
      "REGEN_JOB_RETRIED",
    ]);
    expect(await types(intentId)).toEqual([
      "RETRY_INTENT_CREATED",
      "RETRY_INTENT_CONSUMED",
      "RETRY_INTENT_EXECUTED",
    ]);
    expect(await types(retryId)).toEqual(["JOB_CREATED", "JOB_CLAIMED", "JOB_COMPLETED"]);

    const detail = await api("GET", `/api/admin/retry-intents/${intentId}`);
    expect(detail.body.resultingJob.id).toBe(retryId);
    const executedEvent = detail.body.audit.find(
      (e: { type: string }) => e.type === "RETRY_INTENT_EXECUTED",
    );
    expect(executedEvent).toMatchObject({ userAgent: "regent-e2e", ip: "127.0.0.1" });
  });

  it("stops cleanly on SIGTERM: the worker loop finishes, the server and database close", async () => {
    await regent.stop();
    expect(regent.output()).toMatch(/SIGTERM: stopping/);
    expect(regent.output()).not.toMatch(/Error|error:/);
  });
});
