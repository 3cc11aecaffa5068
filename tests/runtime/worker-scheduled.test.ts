import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitJob } from "../../functions/domain/jobs";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { submitter } from "../helpers/fixtures";
import { insertDemoJobs, outputsOf } from "../helpers/worker";
import { bundleWorker, runInWorkerd, type WorkerBundle, withPassword } from "../helpers/workerd";
import { startWsProxy } from "../helpers/ws-proxy";

/**
 * The Cron Worker as Cloudflare runs it: functions/worker.ts bundled for workerd, its
 * `scheduled` handler triggered in Miniflare, talking to the test's PostgreSQL through the
 * Neon driver over a local WebSocket proxy (NEON_WS_PROXY).
 */
let t: TestDatabase;
let proxy: Awaited<ReturnType<typeof startWsProxy>>;
let mf: Miniflare;
let bundle: WorkerBundle;

beforeAll(async () => {
  t = await freshDatabase();
  proxy = await startWsProxy();
  bundle = await bundleWorker("functions/worker.ts");
  mf = runInWorkerd(bundle, {
    DATABASE_URL: withPassword(t.url),
    NEON_WS_PROXY: proxy.address,
    WORKER_BATCH_SIZE: "25",
    WORKER_CONCURRENCY: "4",
  });
});

afterAll(async () => {
  await mf?.dispose();
  await proxy?.close();
});

describe("the Cron Worker (functions/worker.ts)", () => {
  it("bundles for workerd without Node-only modules", () => {
    expect(bundle.externals).toEqual([]);
    expect(
      bundle.inputs.filter((f) => /node_modules\/(pg|pg-pool|@electric-sql)\//.test(f)),
    ).toEqual([]);
  });

  it("runs one invocation per scheduled event and drains the pending jobs", async () => {
    const ids = await insertDemoJobs(t.raw, 60);
    await catalogue(t.db, "nope");
    const unknown = (await submitJob(t.db, submitter, { generator: "nope", input: {} })).id;
    const worker = await mf.getWorker();
    const result = await worker.scheduled({ cron: "* * * * *" });
    expect(result.outcome).toBe("ok");
    const { rows } = await t.raw.query(
      "SELECT status, count(*)::int AS n FROM regeneration_jobs GROUP BY status ORDER BY status",
    );
    expect(rows).toEqual([
      { status: "COMPLETED", n: 60 },
      { status: "FAILED", n: 1 },
    ]);
    expect((await outputsOf(t.raw, ids[0] as string))[0]?.content).toEqual({ text: "JOB 1" });
    const failed = await t.raw.query("SELECT error FROM regeneration_jobs WHERE id = $1", [
      unknown,
    ]);
    expect(failed.rows[0].error.code).toBe("UNKNOWN_GENERATOR");
  });
});
