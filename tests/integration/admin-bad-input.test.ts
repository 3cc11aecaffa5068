import { beforeAll, describe, expect, it } from "vitest";
import { AdminClient, adminApp, token } from "../helpers/admin";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { failedJob, pendingIntent } from "../helpers/fixtures";

/**
 * Bad input to the admin page — odd ids, filters and form fields, including text PostgreSQL
 * cannot hold (NUL, broken UTF-8) — gets a 4xx page, never a 5xx, and writes nothing.
 */
let t: TestDatabase;
let client: AdminClient;
let failedJobId: string;
let intentId: string;

async function rowCounts(): Promise<string> {
  const { rows } = await t.raw.query(`SELECT
    (SELECT count(*) FROM regeneration_jobs) AS jobs, (SELECT count(*) FROM retry_intents) AS intents,
    (SELECT count(*) FROM retry_intents WHERE status <> 'PENDING') AS decided,
    (SELECT count(*) FROM audit_events WHERE type <> 'AUTH_DENIED') AS events`);
  return JSON.stringify(rows[0]);
}

beforeAll(async () => {
  t = await freshDatabase();
  client = new AdminClient(adminApp({ db: t.db }));
  await client.signIn((await token(t.db, "admin")).secret);
  failedJobId = (await failedJob(t.db)).id;
  intentId = await pendingIntent(t.db);
});

describe("the admin page and bad input", () => {
  const pages = [
    "/admin?status=BOGUS",
    "/admin?generator=%00",
    "/admin?generator=%C3%28",
    "/admin?cursor=!!!",
    `/admin?cursor=${"a".repeat(5000)}`,
    "/admin/jobs/%00",
    `/admin/jobs/${"x".repeat(3000)}`,
    "/admin/jobs/%E0%A4%A",
    "/admin/jobs/%00/retry-intents",
    "/admin/retry-intents/%FF",
    "/admin/retry-intents/%00/execute",
    "/admin/retry-intents?status=NOPE&cursor=%00",
    "/admin/audit?type=%00&subjectId=%00",
    "/admin/audit?cursor=-1",
  ];
  it.each(pages)("GET %s is a page, not a server error", async (path) => {
    const res = await client.request(path);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
  });

  it("reads a batch filter's instants by the API's rule: an offset out of range or a 30 February is 400", async () => {
    for (const query of [
      "failedBefore=9999-12-31T23:59:59-23:59",
      "failedAfter=2026-02-30T00:00:00Z",
      "failedAfter=2026-03-01",
    ]) {
      const res = await client.request(`/admin/retry-batches/new?${query}`);
      expect(res.status, query).toBe(400);
      expect(await res.text()).toContain("RFC 3339 instant");
    }
    const fine = await client.request("/admin/retry-batches/new?failedAfter=2026-02-28T00:00:00Z");
    expect(fine.status).toBe(200);
  });

  it("refuses bad forms with 4xx and writes nothing", async () => {
    const before = await rowCounts();
    const from = `/admin/jobs/${failedJobId}`;
    const forms: [string, Record<string, string>][] = [
      [
        `/admin/jobs/${failedJobId}/retry-intents`,
        { reasonCode: "OTHER", reasonText: "nul \u0000 inside" },
      ],
      [`/admin/jobs/${failedJobId}/retry-intents`, { reasonCode: "BOGUS", reasonText: "fine" }],
      [
        `/admin/jobs/${failedJobId}/retry-intents`,
        { reasonCode: "OTHER", reasonText: "y".repeat(2001) },
      ],
      [`/admin/jobs/${failedJobId}/retry-intents`, { reasonCode: "OTHER" }],
      ["/admin/jobs/%00/retry-intents", { reasonCode: "OTHER", reasonText: "x" }],
      [`/admin/retry-intents/${intentId}/reject`, { reasonText: "nul \u0000 inside" }],
      [`/admin/retry-intents/${intentId}/reject`, { reasonText: "   " }],
      ["/admin/retry-intents/%00/reject", { reasonText: "no" }],
      ["/admin/retry-intents/nosuch/execute", {}],
    ];
    for (const [path, fields] of forms) {
      const res = await client.post(path, fields, { from });
      expect(res.status, `${path} ${JSON.stringify(fields).slice(0, 60)}`).toBeGreaterThanOrEqual(
        400,
      );
      expect(res.status, path).toBeLessThan(500);
    }
    expect(await rowCounts()).toBe(before);
  });
});
