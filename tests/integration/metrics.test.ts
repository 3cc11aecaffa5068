/**
 * `/metrics` read by a real Prometheus text-format parser, and `/api/admin/metrics`, over a
 * database with jobs in every status, failures of several generators and error codes (some of
 * whose names need escaping), retry intents and retry jobs in every state: each number must be
 * the count SQL takes of the same rows.
 */
import parsePrometheus, { type ParsedMetricFamily } from "parse-prometheus-text-format";
import { beforeAll, describe, expect, it } from "vitest";
import type { RetryReasonCode } from "../../db/schema";
import { submitJob } from "../../functions/domain/jobs";
import { createRetryIntent, rejectRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { type ApiApp, call, createTokens, type Tokens, testApp } from "../helpers/api";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, completeJob, failJob, secondAdmin, submitter } from "../helpers/fixtures";
import { rawClaim, rawFailedJob, rawPendingJob } from "../helpers/signals";

const METRICS_TOKEN = "scraper-secret-0123456789abcdef";
const SURGE = { RETRY_SURGE_FACTOR: "3", RETRY_SURGE_MIN: "2" };

let t: TestDatabase;
let app: ApiApp;
let tokens: Tokens;

/**
 * Names no API would accept, each needing the format's escapes: \\, \" and \n. The generator
 * is one of a job from before the catalog (its insert guard set aside as such a job never met
 * it): counted as `(uncatalogued)`, its name never becomes a label.
 */
const ODD_GENERATOR = 'we"ird\\gen\nline';
const ODD_CODE = 'CODE "Q" \\ X\nY';

async function failed(generator: string, code: string) {
  await catalogue(t.db, generator);
  const job = await submitJob(t.db, submitter, { generator, input: { text: generator } });
  return failJob(t.db, job.id, code);
}

/** A FAILED job retried for `reasonCode`; the retry job is left PENDING. */
async function retried(reasonCode: RetryReasonCode) {
  const source = await failed("demo", "DEMO_FAILURE");
  const intent = await createRetryIntent(t.db, admin, {
    sourceJobId: source.id,
    reasonCode,
    reasonText: `retry for ${reasonCode}`,
  });
  return (await createRetryJobFromIntent(t.db, secondAdmin, intent.id)).job;
}

beforeAll(async () => {
  t = await freshDatabase();
  tokens = await createTokens(t.db);
  app = testApp(t.db, { METRICS_TOKEN, ...SURGE });

  // Jobs in every status, the oldest pending one waiting two hours.
  await rawPendingJob(t.raw, "demo", 2);
  await submitJob(t.db, submitter, { generator: "demo", input: { text: "waits" } });
  await rawClaim(t.raw, (await submitJob(t.db, submitter, { generator: "http", input: {} })).id);
  await completeJob(
    t.db,
    (await submitJob(t.db, submitter, { generator: "demo", input: { text: "m" } })).id,
  );

  // Failures of several generators and codes.
  for (const [generator, code] of [
    ["demo", "DEMO_FAILURE"],
    ["demo", "DEMO_FAILURE"],
    ["demo", "GENERATOR_TIMEOUT"],
    ["http", "HTTP_STATUS_502"],
    ["http", "HTTP_TIMEOUT"],
    ["render", "HTTP_STATUS_502"],
  ]) {
    await failed(generator as string, code as string);
  }
  await t.raw.query("ALTER TABLE regeneration_jobs DISABLE TRIGGER regeneration_jobs_insert_guard");
  await rawFailedJob(t.raw, ODD_GENERATOR, ODD_CODE);
  await rawFailedJob(t.raw, ODD_GENERATOR, "DEMO_FAILURE");
  await t.raw.query("ALTER TABLE regeneration_jobs ENABLE TRIGGER regeneration_jobs_insert_guard");

  // Retry intents in every status; retry jobs in every state.
  await createRetryIntent(t.db, admin, {
    sourceJobId: (await failed("demo", "DEMO_FAILURE")).id,
    reasonCode: "BAD_INPUT",
    reasonText: "still pending",
  });
  const declined = await createRetryIntent(t.db, admin, {
    sourceJobId: (await failed("http", "HTTP_TIMEOUT")).id,
    reasonCode: "INFRA_ERROR",
    reasonText: "declined",
  });
  await rejectRetryIntent(t.db, secondAdmin, declined.id, "not worth it");
  await retried("TRANSIENT_FAILURE");
  await rawClaim(t.raw, (await retried("TRANSIENT_FAILURE")).id);
  await completeJob(t.db, (await retried("TRANSIENT_FAILURE")).id);
  await completeJob(t.db, (await retried("IMPROVED_PROMPT")).id);
  await failJob(t.db, (await retried("IMPROVED_PROMPT")).id, "DEMO_FAILURE");
  await failJob(t.db, (await retried("OTHER")).id, "HTTP_STATUS_500");
});

async function scrape(token = tokens.viewer) {
  const res = await call<string>(app, "GET", "/metrics", { token });
  return { ...res, families: parsePrometheus(res.body) };
}

function family(families: ParsedMetricFamily[], name: string): ParsedMetricFamily {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`no ${name} in the exposition`);
  return found;
}

/** `labels → value` of one family, keyed by the label values in `names` order. */
function samples(f: ParsedMetricFamily, names: string[]): Map<string, number> {
  return new Map(
    f.metrics.map((m) => [names.map((n) => m.labels?.[n] ?? "").join(" | "), Number(m.value)]),
  );
}

async function sqlCounts(query: string): Promise<Map<string, number>> {
  const { rows } = await t.raw.query<{ k: string; n: number }>(query);
  return new Map(rows.map((r) => [r.k, Number(r.n)]));
}

describe("GET /metrics", () => {
  it("answers in the Prometheus text format 0.0.4, with HELP and TYPE for every family", async () => {
    const { status, headers, families, body } = await scrape();
    expect(status).toBe(200);
    expect(headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(body.endsWith("\n")).toBe(true);
    const types = Object.fromEntries(families.map((f) => [f.name, f.type]));
    expect(types).toEqual({
      regent_jobs: "GAUGE",
      regent_job_failures_total: "COUNTER",
      regent_generator_paused: "GAUGE",
      regent_retry_intents: "GAUGE",
      regent_retry_jobs_total: "COUNTER",
      regent_supersession_jobs_total: "COUNTER",
      regent_oldest_pending_job_age_seconds: "GAUGE",
      regent_retry_surge: "GAUGE",
    });
    for (const f of families) expect(f.help.length).toBeGreaterThan(10);
  });

  it("counts jobs by status, every status present, as SQL counts them", async () => {
    const { families } = await scrape();
    const expected = await sqlCounts(
      `SELECT s::text AS k, count(j.id) AS n
       FROM unnest(enum_range(NULL::job_status)) s LEFT JOIN regeneration_jobs j ON j.status = s
       GROUP BY s`,
    );
    expect(samples(family(families, "regent_jobs"), ["status"])).toEqual(expected);
    expect([...expected.values()].every((n) => n > 0)).toBe(true);
  });

  it("counts failures by catalogued generator and error code, escaping label values", async () => {
    const { families, body } = await scrape();
    const expected = await sqlCounts(
      `SELECT CASE WHEN generator IN (SELECT name FROM generators) THEN generator
                   ELSE '(uncatalogued)' END || ' | ' || (error->>'code') AS k, count(*) AS n
       FROM regeneration_jobs WHERE status = 'FAILED' GROUP BY 1`,
    );
    const got = samples(family(families, "regent_job_failures_total"), ["generator", "error_code"]);
    expect(got).toEqual(expected);
    expect(got.get(`(uncatalogued) | ${ODD_CODE}`)).toBe(1);
    expect(got.get("render | HTTP_STATUS_502")).toBe(1);
    expect(body).toContain(
      'regent_job_failures_total{generator="(uncatalogued)",error_code="CODE \\"Q\\" \\\\ X\\nY"} 1',
    );
    expect(body).not.toContain("ird");
  });

  it("says which generators are paused, one series per generator of the catalog", async () => {
    const { families } = await scrape();
    const got = samples(family(families, "regent_generator_paused"), ["generator"]);
    expect(got).toEqual(
      await sqlCounts("SELECT name AS k, (paused_at IS NOT NULL)::int AS n FROM generators"),
    );
    expect(got.get("demo")).toBe(0);
  });

  it("counts retry intents by status and reason code, zero included", async () => {
    const { families } = await scrape();
    const expected = await sqlCounts(
      `SELECT s::text || ' | ' || r::text AS k, count(i.id) AS n
       FROM unnest(enum_range(NULL::retry_intent_status)) s
       CROSS JOIN unnest(enum_range(NULL::retry_reason_code)) r
       LEFT JOIN retry_intents i ON i.status = s AND i.reason_code = r
       GROUP BY s, r`,
    );
    const got = samples(family(families, "regent_retry_intents"), ["status", "reason_code"]);
    expect(got).toEqual(expected);
    expect(expected.size).toBe(15);
    expect(got.get("CONSUMED | TRANSIENT_FAILURE")).toBe(3);
    expect(got.get("REJECTED | INFRA_ERROR")).toBe(1);
    expect(got.get("PENDING | BAD_INPUT")).toBe(1);
  });

  it("counts retry jobs by their intent's reason code and their state", async () => {
    const { families } = await scrape();
    const expected = await sqlCounts(
      `SELECT r::text || ' | ' || lower(s::text) AS k, count(j.id) AS n
       FROM unnest(enum_range(NULL::retry_reason_code)) r
       CROSS JOIN unnest(enum_range(NULL::job_status)) s
       LEFT JOIN (regeneration_jobs j JOIN retry_intents i ON i.id = j.retry_intent_id)
         ON i.reason_code = r AND j.status = s
       GROUP BY r, s`,
    );
    const got = samples(family(families, "regent_retry_jobs_total"), ["reason_code", "outcome"]);
    expect(got).toEqual(expected);
    for (const outcome of ["pending", "running", "completed"]) {
      expect(got.get(`TRANSIENT_FAILURE | ${outcome}`)).toBe(1);
    }
    expect(got.get("IMPROVED_PROMPT | failed")).toBe(1);
    expect(got.get("OTHER | failed")).toBe(1);
  });

  it("says how long the oldest pending job has waited", async () => {
    const { families } = await scrape();
    const [sample] = family(families, "regent_oldest_pending_job_age_seconds").metrics;
    const { rows } = await t.raw.query<{ age: number }>(
      "SELECT extract(epoch FROM now() - min(created_at))::float8 AS age FROM regeneration_jobs WHERE status = 'PENDING'",
    );
    // The two clocks are read a moment apart; the backdated job waited two hours.
    expect(Number(sample?.value)).toBeGreaterThanOrEqual(7200);
    expect(Math.abs(Number(sample?.value) - Number(rows[0]?.age))).toBeLessThan(60);
  });

  it("flags a surge as the rule reads the rows: 1 here, the retries of the last hour being all there are", async () => {
    const { families } = await scrape();
    const { rows } = await t.raw.query<{ last: number; trailing: number }>(
      `SELECT count(*) FILTER (WHERE created_at > now() - interval '1 hour')::int AS last,
              count(*) FILTER (WHERE created_at <= now() - interval '1 hour')::int AS trailing
       FROM regeneration_jobs
       WHERE retry_intent_id IS NOT NULL AND created_at > now() - interval '25 hours'`,
    );
    const last = rows[0]?.last ?? 0;
    const surging = last >= 2 && last > (3 * (rows[0]?.trailing ?? 0)) / 24;
    expect(surging).toBe(true);
    expect(family(families, "regent_retry_surge").metrics).toEqual([{ value: "1" }]);
  });
});

describe("who may read /metrics", () => {
  it("lets viewers and admins in, refuses submitters (403) and anonymous callers (401)", async () => {
    expect((await call(app, "GET", "/metrics", { token: tokens.viewer })).status).toBe(200);
    expect((await call(app, "GET", "/metrics", { token: tokens.admin })).status).toBe(200);
    const submitterRes = await call(app, "GET", "/metrics", { token: tokens.submitter });
    expect(submitterRes.status).toBe(403);
    expect(submitterRes.body.error.code).toBe("FORBIDDEN");
    const anonymous = await call(app, "GET", "/metrics");
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe("UNAUTHENTICATED");
  });

  it("lets the METRICS_TOKEN bearer in, and no wrong token", async () => {
    const scraper = await call<string>(app, "GET", "/metrics", { token: METRICS_TOKEN });
    expect(scraper.status).toBe(200);
    expect(scraper.body).toContain("# TYPE regent_jobs gauge");
    for (const wrong of [`${METRICS_TOKEN}x`, METRICS_TOKEN.slice(0, -1), tokens.revoked]) {
      const res = await call(app, "GET", "/metrics", { token: wrong });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("UNAUTHENTICATED");
    }
  });

  it("opens nothing else with the metrics token, and nothing at all when none is configured", async () => {
    expect((await call(app, "GET", "/api/admin/metrics", { token: METRICS_TOKEN })).status).toBe(
      401,
    );
    const unconfigured = testApp(t.db);
    expect((await call(unconfigured, "GET", "/metrics", { token: METRICS_TOKEN })).status).toBe(
      401,
    );
    expect((await call(unconfigured, "GET", "/metrics", { token: tokens.viewer })).status).toBe(
      200,
    );
  });

  it("audits a known principal refused the metrics, and never a presented credential", async () => {
    // A submitter not refused /metrics yet this hour: its first refusal is the one audited.
    const fresh = await createTokens(t.db);
    const before = await t.raw.query("SELECT max(id) AS id FROM audit_events");
    await call(app, "GET", "/metrics", { token: fresh.submitter });
    await call(app, "GET", "/metrics", { token: "not-the-metrics-token-at-all" });
    const { rows } = await t.raw.query<{ type: string; actor: string; data: object }>(
      "SELECT type, actor, data FROM audit_events WHERE id > $1 ORDER BY id",
      [before.rows[0].id],
    );
    expect(rows[0]).toMatchObject({
      type: "AUTH_DENIED",
      actor: fresh.actors.submitter,
      data: { reason: "forbidden role", path: "/metrics", requiredRole: "viewer" },
    });
    expect(JSON.stringify(rows)).not.toContain("not-the-metrics-token-at-all");
    expect(JSON.stringify(rows)).not.toContain(METRICS_TOKEN);
  });
});

describe("GET /api/admin/metrics", () => {
  it("has the numbers of /metrics as JSON, 24 hourly counts and the surge rule", async () => {
    const [{ families }, res] = await Promise.all([
      scrape(),
      call(app, "GET", "/api/admin/metrics", { token: tokens.viewer }),
    ]);
    expect(res.status).toBe(200);
    const body = res.body;
    expect(body.jobs).toEqual(
      Object.fromEntries(
        family(families, "regent_jobs").metrics.map((m) => [m.labels?.status, Number(m.value)]),
      ),
    );
    expect(
      new Map(
        body.failures.map((f: { generator: string; errorCode: string; count: number }) => [
          `${f.generator} | ${f.errorCode}`,
          f.count,
        ]),
      ),
    ).toEqual(samples(family(families, "regent_job_failures_total"), ["generator", "error_code"]));
    expect(
      new Map(
        body.retryJobs.map((r: { reasonCode: string; outcome: string; count: number }) => [
          `${r.reasonCode} | ${r.outcome}`,
          r.count,
        ]),
      ),
    ).toEqual(samples(family(families, "regent_retry_jobs_total"), ["reason_code", "outcome"]));
    expect(body.retryIntents).toHaveLength(15);

    expect(body.hourly).toHaveLength(24);
    const last = body.hourly[23];
    expect(last.end).toBe(body.at);
    const { rows } = await t.raw.query<{ failures: number; retries: number }>(
      `SELECT (SELECT count(*) FROM regeneration_jobs WHERE status = 'FAILED'
                 AND finished_at > $1::timestamptz - interval '24 hours' AND finished_at <= $1)::int AS failures,
              (SELECT count(*) FROM regeneration_jobs WHERE retry_intent_id IS NOT NULL
                 AND created_at > $1::timestamptz - interval '24 hours' AND created_at <= $1)::int AS retries`,
      [body.at],
    );
    const sum = (key: "failures" | "retries") =>
      body.hourly.reduce((n: number, h: Record<string, number>) => n + (h[key] ?? 0), 0);
    expect(sum("failures")).toBe(rows[0]?.failures);
    expect(sum("retries")).toBe(rows[0]?.retries);
    expect(last.retries).toBe(6);
    expect(body.surge).toEqual({
      lastHour: 6,
      trailingHourlyMean: 0,
      factor: 3,
      min: 2,
      surging: true,
    });
  });

  it("is for viewers, and is described in the OpenAPI document", async () => {
    expect((await call(app, "GET", "/api/admin/metrics", { token: tokens.submitter })).status).toBe(
      403,
    );
    expect((await call(app, "GET", "/api/admin/metrics")).status).toBe(401);
    const doc = (await call(app, "GET", "/api/openapi.json")).body;
    expect(doc.paths["/api/admin/metrics"].get["x-regent-role"]).toBe("viewer");
    expect(
      doc.paths["/api/admin/metrics"].get.responses["200"].content["application/json"].schema,
    ).toEqual({ $ref: "#/components/schemas/Signals" });
    expect(doc.components.schemas.Signals.required).toEqual(
      expect.arrayContaining(["jobs", "failures", "retryJobs", "hourly", "surge"]),
    );
    expect(doc.paths["/metrics"].get.responses["200"].content["text/plain"]).toBeDefined();
  });
});
