import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../db/client";
import type { Database } from "../../db/types";
import { submitJob } from "../../functions/domain/jobs";
import {
  createRetryBatch,
  executeRetryBatch,
  previewRetryBatch,
} from "../../functions/domain/retry-batches";
import { createRetryIntent, rejectRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { readSignalTotals } from "../../functions/domain/signals";
import { compactTallies } from "../../functions/domain/tallies";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { appRoleMember } from "../helpers/app-role";
import { DEFAULT_POLICY, freshDatabase, setPolicy, type TestDatabase } from "../helpers/db";
import { admin, secondAdmin, submitter } from "../helpers/fixtures";
import { checkInvariants } from "../helpers/invariants";

/**
 * The database's counters (tallies) and its open failures, held to the rows they stand for:
 * after a mixed workload of concurrent writers (submits, claims, failures, retries, a batch, a
 * rejection, a supersession, transactions rolled back, folds running beside them), every count
 * equals what a count of the rows says; and the application's role cannot write either.
 */
let t: TestDatabase;
let writers: Database[];
const quiet = () => {};

beforeAll(async () => {
  t = await freshDatabase({ max: 8 });
  writers = await Promise.all([1, 2, 3].map(() => connect({ url: t.url, max: 4 })));
});

afterAll(async () => {
  await Promise.all(writers.map((w) => w.close()));
});

/** The broken rules about counters and open failures (checkInvariants holds all of them). */
async function tallyViolations(raw: pg.Client = t.raw): Promise<string[]> {
  return (await checkInvariants(raw)).violations.filter(
    (v) => v.includes("counters") || v.includes("open_failures"),
  );
}

/** Submits `n` demo jobs from three connections at once; half fail as originals. */
async function submitMany(n: number, label: string): Promise<string[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const db = (writers[i % writers.length] as Database).db;
      const input = { text: `${label} ${i}`, ...(i % 2 === 0 ? { failAttempts: 1 } : {}) };
      return (await submitJob(db, submitter, { generator: "demo", input })).id;
    }),
  );
}

/** Three workers draining at once, with folds running beside them. */
async function drain(): Promise<void> {
  let folding = true;
  const folds = (async () => {
    while (folding) await compactTallies(t.db);
  })();
  await Promise.all(
    writers.map((w) =>
      runWorkerInvocation(w.db, { budgetMs: 30_000, concurrency: 4, batchSize: 7, log: quiet }),
    ),
  );
  folding = false;
  await folds;
}

describe("counters after a mixed workload", () => {
  it("equal the rows' counts at every step, concurrent writers and rolled-back work included", async () => {
    const first = await submitMany(60, "first");
    expect(await tallyViolations()).toEqual([]);
    await drain();
    expect(await tallyViolations()).toEqual([]);

    // Work that rolls back leaves no count behind: a submit, a claim and a failure.
    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    try {
      await client.query("BEGIN");
      await client.query(
        `INSERT INTO regeneration_jobs (id, generator, input, created_by)
         VALUES ('rolled-back', 'demo', '{"text":"x"}', 'token:test')`,
      );
      await client.query(
        `INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
         VALUES ('JOB_CREATED', 'token:test', 'job', 'rolled-back', '{}')`,
      );
      expect(
        (await client.query("SELECT count(*)::int AS n FROM tallies")).rows[0].n,
      ).toBeGreaterThan(0);
      await client.query("ROLLBACK");
    } finally {
      await client.end();
    }
    expect(await tallyViolations()).toEqual([]);

    // Retries of half the failures, one by one from three connections at once; one rejected.
    const failed = (
      await t.raw.query<{ id: string }>(
        "SELECT id FROM regeneration_jobs WHERE status = 'FAILED' ORDER BY id",
      )
    ).rows.map((r) => r.id);
    expect(failed).toHaveLength(30);
    const intents = await Promise.all(
      failed.slice(0, 16).map((sourceJobId, i) =>
        createRetryIntent((writers[i % 3] as Database).db, admin, {
          sourceJobId,
          reasonCode: "TRANSIENT_FAILURE",
          reasonText: "the model endpoint timed out",
        }),
      ),
    );
    await rejectRetryIntent(t.db, admin, (intents[0] as { id: string }).id, "deleted upstream");
    await Promise.all(
      intents
        .slice(1)
        .map((intent, i) =>
          createRetryJobFromIntent((writers[i % 3] as Database).db, secondAdmin, intent.id),
        ),
    );
    expect(await tallyViolations()).toEqual([]);

    // The rest of the failures as one batch, approved and executed.
    const filter = { generator: "demo", errorCode: "DEMO_FAILURE" };
    const preview = await previewRetryBatch(t.db, filter);
    // The rejected one is still a failure without a successor, but a person decided it: a
    // batch leaves it out and says so.
    expect(preview.count).toBe(14);
    expect(preview.excluded.rejected).toBe(1);
    const batch = await createRetryBatch(t.db, admin, {
      filter,
      previewToken: preview.previewToken,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "the endpoint was down",
    });
    await executeRetryBatch(t.db, secondAdmin, batch.id);
    expect(await tallyViolations()).toEqual([]);

    // A COMPLETED job superseded, and a second wave drained beside new submits.
    const supersede = await createRetryIntent(t.db, admin, {
      sourceJobId: first[1] as string,
      kind: "SUPERSEDE",
      reasonCode: "IMPROVED_PROMPT",
      reasonText: "a better prompt",
    });
    await createRetryJobFromIntent(t.db, secondAdmin, supersede.id);
    await Promise.all([submitMany(30, "second"), drain()]);
    await drain();
    await compactTallies(t.db);
    expect(await tallyViolations()).toEqual([]);

    // What the signals show is what the rows say.
    const totals = await readSignalTotals(t.db);
    const { rows } = await t.raw.query(
      "SELECT status, count(*)::int AS n FROM regeneration_jobs GROUP BY status",
    );
    for (const row of rows) expect(totals.jobs[row.status as "FAILED"]).toBe(row.n);
    expect(
      totals.retryJobs.filter((r) => r.outcome === "completed").reduce((n, r) => n + r.count, 0),
    ).toBe(29);
    expect(
      totals.supersessionJobs.find(
        (r) => r.reasonCode === "IMPROVED_PROMPT" && r.outcome === "completed",
      )?.count,
    ).toBe(1);
    expect(
      totals.retryIntents.find(
        (r) => r.status === "REJECTED" && r.reasonCode === "TRANSIENT_FAILURE",
      )?.count,
    ).toBe(1);
  });

  it("fold into one row per key, and keep every sum", async () => {
    const sums = async () =>
      (
        await t.raw.query(
          `SELECT subject, generator, status, code, kind, reason, sum(count)::int AS n
           FROM tallies GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(count) <> 0 ORDER BY 1, 2, 3, 4, 5, 6`,
        )
      ).rows;
    await submitMany(6, "fold");
    const before = await sums();
    await compactTallies(t.db);
    expect(await sums()).toEqual(before);
    const { rows } = await t.raw.query(
      `SELECT count(*)::int AS rows, count(DISTINCT (subject, generator, status, code, kind, reason))::int AS keys
       FROM tallies`,
    );
    expect(rows[0].rows).toBe(rows[0].keys);
  });
});

describe("a history that predates the counters", () => {
  it("is counted once by regent_fill_tallies, which leaves counted tallies alone", async () => {
    const h = await freshDatabase();
    await h.raw.query("BEGIN");
    await h.raw.query("SET LOCAL session_replication_role = replica");
    await h.raw.query(
      `INSERT INTO regeneration_jobs (id, generator, input, status, created_by, claimed_by, claimed_at,
                                      lease_expires_at, finished_at, error)
       SELECT 'old' || g, 'demo', '{}', 'FAILED', 'token:old', 'w', now(), now(), now(),
              '{"code":"OLD_FAILURE","message":"m"}'
       FROM generate_series(1, 12) g`,
    );
    await h.raw.query("COMMIT");
    expect((await h.raw.query("SELECT count(*)::int AS n FROM tallies")).rows[0].n).toBe(0);
    const filled = await h.raw.query("SELECT regent_fill_tallies() AS filled");
    expect(filled.rows[0].filled).toBe(true);
    expect(await tallyViolations(h.raw)).toEqual([]);
    const again = await h.raw.query("SELECT regent_fill_tallies() AS filled");
    expect(again.rows[0].filled).toBe(false);
    expect(await tallyViolations(h.raw)).toEqual([]);
    expect((await h.raw.query("SELECT count(*)::int AS n FROM open_failures")).rows[0].n).toBe(12);
  });
});

describe("the application's role", () => {
  it("reads the counters and open failures, and cannot write, fill or empty them", async () => {
    const app = await appRoleMember(t);
    const job = (await t.raw.query("SELECT id FROM regeneration_jobs LIMIT 1")).rows[0].id;
    expect(
      (await app.raw.query("SELECT count(*)::int AS n FROM tallies")).rows[0].n,
    ).toBeGreaterThan(0);
    for (const statement of [
      "INSERT INTO tallies (subject, status, count) VALUES ('job', 'COMPLETED', 1000)",
      "UPDATE tallies SET count = count + 1",
      "DELETE FROM tallies",
      "TRUNCATE tallies",
      `INSERT INTO open_failures VALUES ('${job}', 'demo', 'X', now(), false)`,
      "DELETE FROM open_failures",
      "SELECT regent_fill_tallies()",
    ]) {
      await expect(app.raw.query(statement), statement).rejects.toMatchObject({ code: "42501" });
    }
    expect(await tallyViolations()).toEqual([]);
  });
});

describe("a batch preview over more failures than a batch holds", () => {
  it("stops reading at one past the maximum and says the count is a bound", async () => {
    const b = await freshDatabase({ max: 4 });
    try {
      await setPolicy(b, { ...DEFAULT_POLICY, retryBatchMax: 5 });
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          submitJob(b.db, submitter, {
            generator: "demo",
            input: { text: `many ${i}`, failAttempts: 1 },
          }),
        ),
      );
      await runWorkerInvocation(b.db, {
        budgetMs: 30_000,
        concurrency: 4,
        batchSize: 50,
        log: quiet,
      });
      await expect(previewRetryBatch(b.db, { generator: "demo" })).rejects.toMatchObject({
        code: "BATCH_TOO_LARGE",
        details: { count: 6, max: 5, atLeast: true },
      });
      const { rows } = await b.raw.query(
        `SELECT regent_preview_retry_batch('{"generator":"demo"}', 'RETRY') AS p`,
      );
      expect(rows[0].p.jobIds).toHaveLength(6);
    } finally {
      await setPolicy(b, DEFAULT_POLICY);
    }
  });
});
