import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitJob } from "../../functions/domain/jobs";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { submitter } from "../helpers/fixtures";
import { bundleWorker, runInWorkerd, withPassword } from "../helpers/workerd";
import { startWsProxy } from "../helpers/ws-proxy";

/**
 * The Cron Worker within Cloudflare's limits on one invocation, in workerd: 200 `http` jobs,
 * a budget of 50 subrequests, and the default batch size (500) and concurrency (16), which ask
 * for far more. Everything the Worker sends is counted on the receiving side: a stand-in for
 * the generator service counts its calls and how many are open at once, the WebSocket proxy
 * counts the database connections opened, and the alert receiver counts digests.
 */
const BUDGET = 50;
const JOBS = 200;
const SECRET = "alert-signing-secret-for-workerd";

let t: TestDatabase;
let proxy: Awaited<ReturnType<typeof startWsProxy>>;
let mf: Miniflare;

const service = { calls: 0, open: 0, mostOpen: 0 };
const generatorService = createServer((req, res) => {
  service.calls += 1;
  service.open += 1;
  service.mostOpen = Math.max(service.mostOpen, service.open);
  let text = "";
  req.on("data", (chunk: Buffer) => {
    text += chunk.toString("utf8");
  });
  req.on("end", () => {
    // Held a moment, so that calls the Worker lets overlap do overlap.
    setTimeout(() => {
      service.open -= 1;
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ echoed: JSON.parse(text) }));
    }, 10);
  });
});

let digests = 0;
const alertReceiver = createServer((req, res) => {
  digests += 1;
  req.resume();
  req.on("end", () => res.writeHead(204).end());
});

function listen(server: ReturnType<typeof createServer>): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }),
  );
}

beforeAll(async () => {
  t = await freshDatabase();
  proxy = await startWsProxy();
  const [generatorUrl, alertUrl] = await Promise.all([
    listen(generatorService),
    listen(alertReceiver),
  ]);
  mf = runInWorkerd(await bundleWorker("functions/worker.ts"), {
    DATABASE_URL: withPassword(t.url),
    NEON_WS_PROXY: proxy.address,
    WORKER_SUBREQUEST_BUDGET: String(BUDGET),
    HTTP_GENERATOR_URL: `${generatorUrl}/generate`,
    ALERT_WEBHOOK_URL: `${alertUrl}/hook`,
    ALERT_WEBHOOK_SECRET: SECRET,
  });
});

afterAll(async () => {
  await mf?.dispose();
  await proxy?.close();
  for (const server of [generatorService, alertReceiver]) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function statusCounts(): Promise<{ generator: string; status: string; n: number }[]> {
  const { rows } = await t.raw.query(
    `SELECT generator, status, count(*)::int AS n FROM regeneration_jobs
     GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  return rows;
}

describe("the Cron Worker within a subrequest budget", () => {
  it("claims in each invocation only what it can run, and no job fails for it", async () => {
    // The oldest job fails at once (no such generator), so that a digest goes out as well.
    await catalogue(t.db, "nope");
    await submitJob(t.db, submitter, { generator: "nope", input: {} });
    for (let n = 0; n < JOBS; n++) {
      await submitJob(t.db, submitter, { generator: "http", input: { n } });
    }
    const worker = await mf.getWorker();
    const sent: { calls: number; sockets: number; digests: number }[] = [];
    const pending = async () =>
      (await statusCounts()).some((row) => row.status === "PENDING" || row.status === "RUNNING");
    while ((await pending()) && sent.length < 10) {
      const before = { calls: service.calls, sockets: proxy.opened(), digests };
      expect((await worker.scheduled({ cron: "* * * * *" })).outcome).toBe("ok");
      sent.push({
        calls: service.calls - before.calls,
        sockets: proxy.opened() - before.sockets,
        digests: digests - before.digests,
      });
    }

    expect(await statusCounts()).toEqual([
      { generator: "http", status: "COMPLETED", n: JOBS },
      { generator: "nope", status: "FAILED", n: 1 },
    ]);
    for (const invocation of sent) {
      expect(invocation.calls + invocation.sockets + invocation.digests).toBeLessThanOrEqual(
        BUDGET,
      );
      // The database's WebSocket is opened once an invocation, however long it idles.
      expect(invocation.sockets).toBe(1);
    }
    expect(sent.length).toBeGreaterThan(JOBS / BUDGET);
    expect(sent[0]?.digests).toBe(1);
    // Each job's generator was called once: none was claimed and left without its call.
    expect(service.calls).toBe(JOBS);
    // Six connections, one of them the database's.
    expect(service.mostOpen).toBeLessThanOrEqual(5);
  });
});
