import { beforeAll, describe, expect, it } from "vitest";
import { submitJob } from "../../functions/domain/jobs";
import { startWorkerLoop } from "../../functions/execution/loop";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { submitter } from "../helpers/fixtures";
import { insertDemoJobs, logSink } from "../helpers/worker";

/** The loop `npm start` runs beside the API: invocation after invocation until stopped. */
let t: TestDatabase;

beforeAll(async () => {
  t = await freshDatabase();
});

async function statusCounts(): Promise<Record<string, number>> {
  const { rows } = await t.raw.query<{ status: string; n: number }>(
    "SELECT status, count(*)::int AS n FROM regeneration_jobs GROUP BY status",
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Waits for the loop to have done something, by watching the database (bounded). */
async function until(done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("the loop did not get there");
}

describe("startWorkerLoop", () => {
  it("keeps running invocations, picking up jobs submitted while it runs, until stopped", async () => {
    const sink = logSink();
    await insertDemoJobs(t.raw, 30);
    const loop = startWorkerLoop(t.db, {
      intervalMs: 10,
      budgetMs: 5_000,
      batchSize: 10,
      concurrency: 2,
      log: sink.log,
    });
    try {
      await until(async () => (await statusCounts()).COMPLETED === 30);
      const later = await submitJob(t.db, submitter, {
        generator: "demo",
        input: { text: "later" },
      });
      await until(async () => {
        const { rows } = await t.raw.query("SELECT status FROM regeneration_jobs WHERE id = $1", [
          later.id,
        ]);
        return rows[0]?.status === "COMPLETED";
      });
    } finally {
      await loop.stop();
    }
    expect(await statusCounts()).toEqual({ COMPLETED: 31 });
    // Idle invocations are not logged; the ones that did something (ran jobs, or sealed the
    // audit events of those that did) are, one line each.
    const logged = sink.lines.map((line) => JSON.parse(line));
    expect(logged.every((l) => l.event === "worker.invocation" && l.claimed + l.sealed > 0)).toBe(
      true,
    );
    expect(logged.filter((l) => l.claimed > 0).length).toBeGreaterThan(0);
    expect(logged.reduce((n, l) => n + l.completed, 0)).toBe(31);
  });

  it("stop() lets the running invocation finish what it claimed: no job is left RUNNING", async () => {
    const loop = startWorkerLoop(t.db, {
      intervalMs: 10,
      budgetMs: 5_000,
      batchSize: 5,
      concurrency: 1,
      log: () => {},
    });
    await insertDemoJobs(t.raw, 40);
    await until(async () => ((await statusCounts()).COMPLETED ?? 0) > 31);
    await loop.stop();
    const afterStop = await statusCounts();
    expect(afterStop.RUNNING).toBeUndefined();
    expect((afterStop.COMPLETED ?? 0) + (afterStop.PENDING ?? 0)).toBe(71);
  });
});
