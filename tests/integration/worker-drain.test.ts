import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../db/client";
import type { Database } from "../../db/types";
import { canonicalJson, sha256Hex } from "../../functions/domain/canonical-json";
import { type InvocationResult, runWorkerInvocation } from "../../functions/execution/invocation";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { insertDemoJobs, logSink } from "../helpers/worker";

/** Four workers, each with its own connections as separate processes would have. */
let t: TestDatabase;
let workers: Database[];
let ids: string[];
let results: InvocationResult[];
const sink = logSink();

beforeAll(async () => {
  t = await freshDatabase();
  ids = await insertDemoJobs(t.raw, 2000);
  workers = await Promise.all([1, 2, 3, 4].map(() => connect({ url: t.url, max: 4 })));
  results = await Promise.all(
    workers.map((w) =>
      runWorkerInvocation(w.db, { budgetMs: 60_000, concurrency: 8, batchSize: 50, log: sink.log }),
    ),
  );
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
});

describe("four concurrent invocations drain 2,000 jobs", () => {
  it("completes every job", async () => {
    const { rows } = await t.raw.query(
      "SELECT status, count(*)::int AS n FROM regeneration_jobs GROUP BY status",
    );
    expect(rows).toEqual([{ status: "COMPLETED", n: 2000 }]);
  });

  it("writes exactly one output per job, with the demo's content and its canonical SHA-256", async () => {
    const { rows } = await t.raw.query<{
      job_id: string;
      content: unknown;
      content_sha256: string;
      generator_version: string;
      input: { text: string };
    }>(
      `SELECT o.job_id, o.content, o.content_sha256, o.generator_version, j.input
       FROM regeneration_outputs o JOIN regeneration_jobs j ON j.id = o.job_id ORDER BY o.job_id`,
    );
    expect(rows.map((r) => r.job_id)).toEqual(ids);
    for (const row of rows) {
      expect(row.content).toEqual({ text: row.input.text.toUpperCase() });
      expect(row.generator_version).toBe("demo@1");
      expect(row.content_sha256).toBe(await sha256Hex(canonicalJson(row.content)));
    }
  });

  it("claims each job exactly once, and only its claimant completes it", async () => {
    const { rows } = await t.raw.query(
      `SELECT j.id,
              count(*) FILTER (WHERE e.type = 'JOB_CLAIMED')::int AS claimed,
              count(*) FILTER (WHERE e.type = 'JOB_COMPLETED')::int AS completed,
              bool_and(e.actor = 'worker:' || j.claimed_by)
                FILTER (WHERE e.type IN ('JOB_CLAIMED', 'JOB_COMPLETED')) AS by_claimant
       FROM regeneration_jobs j JOIN audit_events e ON e.subject_id = j.id
       GROUP BY j.id
       HAVING count(*) FILTER (WHERE e.type = 'JOB_CLAIMED') <> 1
           OR count(*) FILTER (WHERE e.type = 'JOB_COMPLETED') <> 1
           OR NOT bool_and(e.actor = 'worker:' || j.claimed_by)
                  FILTER (WHERE e.type IN ('JOB_CLAIMED', 'JOB_COMPLETED'))`,
    );
    expect(rows).toEqual([]);
    const claimants = await t.raw.query<{ claimed_by: string }>(
      "SELECT DISTINCT claimed_by FROM regeneration_jobs",
    );
    const invocationIds = results.map((r) => r.invocationId);
    for (const { claimed_by } of claimants.rows) expect(invocationIds).toContain(claimed_by);
  });

  it("reports counts that add up, and logs one structured line per invocation", () => {
    const sum = (key: "claimed" | "completed" | "failed" | "refused") =>
      results.reduce((n, r) => n + r[key], 0);
    expect(sum("claimed")).toBe(2000);
    expect(sum("completed")).toBe(2000);
    expect(sum("failed")).toBe(0);
    expect(sum("refused")).toBe(0);
    expect(new Set(results.map((r) => r.invocationId)).size).toBe(4);
    expect(sink.lines).toHaveLength(4);
    const logged = sink.lines.map((line) => JSON.parse(line));
    for (const result of results) {
      expect(logged).toContainEqual(
        expect.objectContaining({
          event: "worker.invocation",
          invocationId: result.invocationId,
          claimed: result.claimed,
          completed: result.completed,
          failed: 0,
        }),
      );
    }
  });

  it("leaves nothing for a fifth invocation", async () => {
    const late = await runWorkerInvocation(t.db, {
      budgetMs: 10_000,
      concurrency: 4,
      batchSize: 50,
      log: () => {},
    });
    expect(late).toMatchObject({ claimed: 0, completed: 0, failed: 0, swept: 0 });
  });
});
