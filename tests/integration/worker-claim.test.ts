import { beforeAll, describe, expect, it } from "vitest";
import { claimJobs } from "../../functions/execution/claimer";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { insertDemoJobs, rawJob } from "../helpers/worker";

/** The claim statement on its own: oldest first, disjoint under concurrency, audited. */
let t: TestDatabase;
let ids: string[];
const claimant = (n: number) => ({ workerId: `w${n}`, actor: `worker:w${n}` });

beforeAll(async () => {
  t = await freshDatabase();
  ids = await insertDemoJobs(t.raw, 10);
});

describe("claimJobs", () => {
  it("takes the oldest PENDING jobs first and returns them in that order", async () => {
    const claimed = await claimJobs(t.db, claimant(1), { batchSize: 3, leaseSeconds: 60 });
    expect(claimed.map((j) => j.id)).toEqual(ids.slice(0, 3));
    expect(claimed[0]).toMatchObject({
      generator: "demo",
      input: { text: "job 1" },
      retryOfJobId: null,
      retryIntentId: null,
      retryDepth: 0,
    });
  });

  it("marks each RUNNING with the claim and a lease, and records JOB_CLAIMED by the claimant", async () => {
    const job = await rawJob(t.raw, ids[0] as string);
    expect(job).toMatchObject({ status: "RUNNING", claimed_by: "w1" });
    const leaseMs = (job.lease_expires_at as Date).getTime() - (job.claimed_at as Date).getTime();
    expect(leaseMs).toBe(60_000);
    const { rows } = await t.raw.query(
      "SELECT actor, data FROM audit_events WHERE subject_id = $1 AND type = 'JOB_CLAIMED'",
      [ids[0]],
    );
    expect(rows).toEqual([
      { actor: "worker:w1", data: expect.objectContaining({ claimedBy: "w1" }) },
    ]);
  });

  it("skips, without waiting, a job another transaction holds locked", async () => {
    await t.raw.query("BEGIN");
    try {
      await t.raw.query("SELECT id FROM regeneration_jobs WHERE id = $1 FOR UPDATE", [ids[3]]);
      const claimed = await claimJobs(t.db, claimant(2), { batchSize: 2, leaseSeconds: 60 });
      expect(claimed.map((j) => j.id)).toEqual([ids[4], ids[5]]);
    } finally {
      await t.raw.query("ROLLBACK");
    }
  });

  it("never returns a job twice across claimants, and finds nothing once all are taken", async () => {
    const [a, b] = await Promise.all([
      claimJobs(t.db, claimant(3), { batchSize: 5, leaseSeconds: 60 }),
      claimJobs(t.db, claimant(4), { batchSize: 5, leaseSeconds: 60 }),
    ]);
    const taken = [...(a ?? []), ...(b ?? [])].map((j) => j.id).sort();
    expect(taken).toEqual([ids[3], ids[6], ids[7], ids[8], ids[9]]);
    expect(await claimJobs(t.db, claimant(5), { batchSize: 5, leaseSeconds: 60 })).toEqual([]);
  });
});
