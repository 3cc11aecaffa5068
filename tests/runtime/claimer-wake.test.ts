import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLAIMER_WAKE } from "../../functions/config/wake";
import { createApiToken } from "../../functions/domain/api-tokens";
import type { JsonBody } from "../helpers/api";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { eventually } from "../helpers/start-server";
import {
  bundleWorker,
  runApiAndClaimerInWorkerd,
  WAKE_QUEUE,
  type WorkerBundle,
  withPassword,
} from "../helpers/workerd";
import { startWsProxy } from "../helpers/ws-proxy";

/**
 * The API Worker wakes the claimer Worker through the wake-up queue (the API a producer, the
 * claimer the consumer), both bundles in workerd as Cloudflare runs them. No `scheduled` event
 * is ever sent here: a job that runs was started by a wake-up.
 */
let t: TestDatabase;
let proxy: Awaited<ReturnType<typeof startWsProxy>>;
let api: WorkerBundle;
let claimer: WorkerBundle;
let mf: Miniflare;
let submitter: string;
const others: Miniflare[] = [];

beforeAll(async () => {
  t = await freshDatabase();
  proxy = await startWsProxy();
  [api, claimer] = await Promise.all([
    bundleWorker("functions/api.ts"),
    bundleWorker("functions/worker.ts"),
  ]);
  mf = runApiAndClaimerInWorkerd({ api, claimer, ...bindings() });
  submitter = (await createApiToken(t.db, { actor: "test" }, { name: "s", role: "submitter" }))
    .token;
});
afterAll(async () => {
  for (const other of others) await other.dispose();
  await mf?.dispose();
  await proxy?.close();
});

function bindings() {
  const database = { DATABASE_URL: withPassword(t.url), NEON_WS_PROXY: proxy.address };
  return {
    apiBindings: { ...database, SESSION_SECRET: "a-session-secret-of-at-least-32-characters" },
    claimerBindings: { ...database, WORKER_CONCURRENCY: "4" },
  };
}

async function submit(on: Miniflare, text: string) {
  const response = await on.dispatchFetch("https://regent.example/api/jobs", {
    method: "POST",
    headers: { authorization: `Bearer ${submitter}`, "content-type": "application/json" },
    body: JSON.stringify({ generator: "demo", input: { text } }),
  });
  return { status: response.status, body: (await response.json()) as JsonBody };
}

async function statuses(ids: string[]): Promise<string[]> {
  const { rows } = await t.raw.query(
    "SELECT status FROM regeneration_jobs WHERE id = ANY($1) ORDER BY id",
    [ids],
  );
  return rows.map((r) => r.status);
}

describe("the API Worker wakes the claimer Worker (queue)", () => {
  it("bundles the claimer without the API, and the API without the claimer's execution", () => {
    expect(api.inputs.filter((f) => f.includes("functions/execution/"))).toEqual([]);
    expect(claimer.inputs.filter((f) => f.includes("functions/http/"))).toEqual([]);
  });

  it("runs a submitted job without any scheduled event", async () => {
    const submitted = await submit(mf, "woken");
    expect(submitted.status).toBe(201);
    await eventually(
      async () => ((await statuses([submitted.body.job.id]))[0] === "COMPLETED" ? true : undefined),
      "the job to complete",
    );
  });

  it("runs each of many jobs submitted at once exactly once", async () => {
    const submits = await Promise.all(Array.from({ length: 10 }, (_, i) => submit(mf, `n${i}`)));
    const ids = submits.map((s) => s.body.job.id as string);
    await eventually(
      async () => ((await statuses(ids)).every((s) => s === "COMPLETED") ? true : undefined),
      "every job to complete",
    );
    const { rows } = await t.raw.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE type = 'JOB_CLAIMED' AND subject_id = ANY($1)`,
      [ids],
    );
    expect(rows[0].n).toBe(ids.length);
  });

  it("claims once for a batch of wake-ups, and a wake-up too many claims nothing", async () => {
    const [job] = await t.raw
      .query("SELECT count(*)::int AS n FROM audit_events WHERE type = 'JOB_CLAIMED'")
      .then((r) => r.rows);
    const worker = await mf.getWorker("claimer");
    const result = await worker.queue(
      WAKE_QUEUE,
      Array.from({ length: 3 }, (_, i) => ({
        id: `duplicate-${i}`,
        timestamp: new Date(),
        attempts: 1,
        body: CLAIMER_WAKE.message,
      })),
    );
    expect(result.outcome).toBe("ok");
    expect(result.ackAll).toBe(true);
    expect(result.retryMessages).toEqual([]);
    const { rows } = await t.raw.query(
      "SELECT count(*)::int AS n FROM audit_events WHERE type = 'JOB_CLAIMED'",
    );
    expect(rows[0].n).toBe(job.n);
  });

  it("answers the submit when the send fails, and leaves the job to the Cron", async () => {
    const failing = runApiAndClaimerInWorkerd({ api, claimer, failingSend: true, ...bindings() });
    others.push(failing);
    const submitted = await submit(failing, "signal lost");
    expect(submitted.status).toBe(201);
    expect(await statuses([submitted.body.job.id])).toEqual(["PENDING"]);
  });

  it("answers the submit when the claimer fails, and leaves the job to the Cron", async () => {
    const failing = runApiAndClaimerInWorkerd({
      api,
      claimer: {
        script: "export default { queue() { throw new Error('the claimer is down'); } };",
      },
      ...bindings(),
    });
    others.push(failing);
    const submitted = await submit(failing, "claimer down");
    expect(submitted.status).toBe(201);
    expect(await statuses([submitted.body.job.id])).toEqual(["PENDING"]);
  });
});
