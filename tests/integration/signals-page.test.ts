/**
 * The admin page's signals: `/admin/signals` with its server-drawn chart, and the surge banner
 * every admin page shows while retries surge, read as HTML through `app.request()`.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { submitJob } from "../../functions/domain/jobs";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { AdminClient, adminApp, token } from "../helpers/admin";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, completeJob, failJob, secondAdmin, submitter } from "../helpers/fixtures";

let t: TestDatabase;
let viewer: AdminClient;
let viewerSecret: string;

async function failed(generator: string, code: string) {
  await catalogue(t.db, generator);
  const job = await submitJob(t.db, submitter, { generator, input: { text: generator } });
  return failJob(t.db, job.id, code);
}

async function retry() {
  const source = await failed("demo", "DEMO_FAILURE");
  const intent = await createRetryIntent(t.db, admin, {
    sourceJobId: source.id,
    reasonCode: "TRANSIENT_FAILURE",
    reasonText: "upstream flapped",
  });
  return (await createRetryJobFromIntent(t.db, secondAdmin, intent.id)).job;
}

/** The page with a surge minimum of `min` retries in the last hour, signed in as a viewer. */
async function signedIn(min: string) {
  const client = new AdminClient(adminApp({ db: t.db, env: { RETRY_SURGE_MIN: min } }));
  await client.signIn(viewerSecret);
  return client;
}

const BANNER = 'class="notice notice-warn surge-banner"';

beforeAll(async () => {
  t = await freshDatabase();
  viewerSecret = (await token(t.db, "viewer", "vera")).secret;
  viewer = await signedIn("3");
  await failed("http", "HTTP_STATUS_502");
  await failed("http", "HTTP_STATUS_502");
  await failed("render", "GENERATOR_TIMEOUT");
  await completeJob(t.db, (await retry()).id);
  await failJob(t.db, (await retry()).id, "DEMO_FAILURE");
});

describe("/admin/signals", () => {
  it("draws the last 24 hours as an accessible SVG chart, with the figures as a table", async () => {
    const { res, html } = await viewer.page("/admin/signals");
    expect(res.status).toBe(200);
    expect(html).toContain("<h1>Signals</h1>");
    expect(html).toMatch(
      /<svg [^>]*role="img"[^>]*aria-labelledby="signals-chart-title signals-chart-desc"/,
    );
    expect(html).toContain('<title id="signals-chart-title">');
    // 3 + 2 sources + 1 retry failed, all in the last hour; 2 retries created.
    expect(html).toMatch(
      /<desc id="signals-chart-desc">6 jobs failed and 2 retry jobs were created/,
    );
    for (const series of ["failures", "retries"]) {
      const group = new RegExp(
        `<g class="chart-bars series-${series}" data-series="${series}">(.*?)</g>`,
        "s",
      ).exec(html);
      expect(group).not.toBeNull();
      const values = [...(group?.[1] ?? "").matchAll(/data-value="(\d+)"/g)].map((m) =>
        Number(m[1]),
      );
      expect(values).toHaveLength(24);
      expect(values.at(-1)).toBe(series === "failures" ? 6 : 2);
      expect(values.slice(0, -1).every((v) => v === 0)).toBe(true);
    }
    const table = /<details class="chart-data">(.*?)<\/details>/s.exec(html)?.[1] ?? "";
    expect(table.match(/<tr>/g)).toHaveLength(25);
    expect(html).not.toMatch(/<script|style="/);
  });

  it("lists failures by generator and error code, and retries by reason with their success rate", async () => {
    const { html } = await viewer.page("/admin/signals");
    expect(html).toMatch(
      />http<\/a><\/td><td data-label="Error code"><code>HTTP_STATUS_502<\/code><\/td><td class="num" data-label="Failed jobs">2</,
    );
    expect(html).toMatch(
      />render<\/a><\/td><td data-label="Error code"><code>GENERATOR_TIMEOUT<\/code><\/td><td class="num" data-label="Failed jobs">1</,
    );
    // One retry completed, one failed: 50 %.
    expect(html).toMatch(
      /<code>TRANSIENT_FAILURE<\/code><\/td><td class="num" data-label="Retry jobs">2<\/td><td class="num" data-label="Unfinished">0<\/td><td class="num" data-label="Completed">1<\/td><td class="num" data-label="Failed">1<\/td><td class="num" data-label="Success rate">50 %</,
    );
  });

  it("is in the navigation, current on its own page", async () => {
    const { html } = await viewer.page("/admin/signals");
    expect(html).toContain('<a href="/admin/signals" aria-current="page">Signals</a>');
    const jobs = await viewer.page("/admin");
    expect(jobs.html).toContain('<a href="/admin/signals">Signals</a>');
  });
});

describe("the surge banner", () => {
  it("is on no page while retries are calm", async () => {
    for (const path of ["/admin", "/admin/audit", "/admin/signals"]) {
      expect((await viewer.page(path)).html).not.toContain(BANNER);
    }
    expect((await viewer.page("/admin/signals")).html).toContain(
      '<span class="badge badge-completed">calm</span>',
    );
  });

  it("appears on every admin page once the last hour's retries reach the surge", async () => {
    await retry();
    for (const path of ["/admin", "/admin/audit", "/admin/retry-intents", "/admin/signals"]) {
      const { html } = await viewer.page(path);
      expect(html).toContain(BANNER);
      expect(html).toContain("3 retry jobs were created in the last hour");
    }
    expect((await viewer.page("/admin/signals")).html).toContain(
      '<span class="badge badge-failed">surging</span>',
    );
  });

  it("is not there for the same rows under a higher minimum, nor before signing in", async () => {
    const calmer = await signedIn("4");
    expect((await calmer.page("/admin")).html).not.toContain(BANNER);
    const anonymous = new AdminClient(adminApp({ db: t.db, env: { RETRY_SURGE_MIN: "3" } }));
    const login = await anonymous.page("/admin/login");
    expect(login.res.status).toBe(200);
    expect(login.html).not.toContain(BANNER);
  });
});
