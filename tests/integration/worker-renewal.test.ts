import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { JobError } from "../../db/schema";
import { submitJob } from "../../functions/domain/jobs";
import { createRegistry, type Generator } from "../../functions/execution/generators";
import {
  type InvocationOptions,
  type InvocationResult,
  runWorkerInvocation,
} from "../../functions/execution/invocation";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { submitter } from "../helpers/fixtures";
import { eventTypes, outputsOf, rawJob } from "../helpers/worker";

/**
 * Renewing the leases of the jobs of a batch that have not started yet. With one generator at
 * a time, a 3 s lease and a 1.5 s job timeout, a job may start only while 2.25 s of its lease
 * remain, so the rest of a batch of 300 ms jobs is renewed after the third job or so. Time is
 * real (a lease is PostgreSQL's clock), but the assertions are about what happened to the
 * jobs; a lapsed lease is made by backdating it in the database, from inside a generator.
 */
let t: TestDatabase;
const started: { jobId: string; leaseLeftMs: number }[] = [];
/** Jobs whose lease the generator of a `lapseOthers` job backdates before it sleeps. */
let toLapse: string[] = [];

const slow: Generator = {
  name: "slow",
  version: "slow@1",
  inputSchema: z.unknown(),
  async run(input, ctx) {
    const { sleepMs, lapseOthers } = input as { sleepMs: number; lapseOthers?: boolean };
    const { rows } = await t.raw.query<{ left: number }>(
      `SELECT (extract(epoch FROM lease_expires_at - clock_timestamp()) * 1000)::int AS left
       FROM regeneration_jobs WHERE id = $1`,
      [ctx.job.id],
    );
    started.push({ jobId: ctx.job.id, leaseLeftMs: rows[0]?.left ?? Number.NaN });
    if (lapseOthers) {
      await t.raw.query(
        "UPDATE regeneration_jobs SET lease_expires_at = now() - interval '1 second' WHERE id = ANY($1)",
        [toLapse],
      );
    }
    await new Promise((resolve) => setTimeout(resolve, sleepMs));
    return { slept: sleepMs };
  },
};

const options: InvocationOptions = {
  budgetMs: 60_000,
  concurrency: 1,
  batchSize: 10,
  leaseSeconds: 3,
  jobTimeoutMs: 1500,
  generators: createRegistry([slow]),
  log: () => {},
};

async function submitSlow(inputs: { sleepMs: number; lapseOthers?: boolean }[]) {
  const ids: string[] = [];
  for (const input of inputs) {
    await catalogue(t.db, "slow");
    ids.push((await submitJob(t.db, submitter, { generator: "slow", input })).id);
  }
  return ids;
}

/** Ms between the claim and the lease a job holds now (its last one, once finished). */
async function leaseHeldMs(jobId: string): Promise<number> {
  const job = await rawJob(t.raw, jobId);
  return (job.lease_expires_at as Date).getTime() - (job.claimed_at as Date).getTime();
}

const ran = (jobId: string) => started.some((s) => s.jobId === jobId);

beforeAll(async () => {
  t = await freshDatabase();
});

describe("a batch that outlasts its lease", () => {
  let ids: string[];
  let result: InvocationResult;

  beforeAll(async () => {
    ids = await submitSlow(Array.from({ length: 7 }, () => ({ sleepMs: 300 })));
    result = await runWorkerInvocation(t.db, options);
  });

  it("completes every job, none LEASE_EXPIRED, even after a later invocation's sweep", async () => {
    expect(result).toMatchObject({ claimed: 7, completed: 7, failed: 0, refused: 0, passes: 2 });
    const sweep = await runWorkerInvocation(t.db, options);
    expect(sweep.swept).toBe(0);
    for (const id of ids) {
      expect(await rawJob(t.raw, id)).toMatchObject({ status: "COMPLETED", error: null });
      expect(await outputsOf(t.raw, id)).toHaveLength(1);
    }
  });

  it("starts every job with at least its whole timeout left on its lease", () => {
    expect(started.filter((s) => ids.includes(s.jobId)).map((s) => s.jobId)).toEqual(ids);
    for (const s of started) expect(s.leaseLeftMs).toBeGreaterThanOrEqual(1500);
  });

  it("extended the leases of the jobs that started late, without an audit event", async () => {
    for (const id of ids.slice(3)) {
      expect(await leaseHeldMs(id)).toBeGreaterThan(3000);
      expect(await eventTypes(t.raw, id)).toEqual(["JOB_CREATED", "JOB_CLAIMED", "JOB_COMPLETED"]);
    }
  });
});

describe("a job whose lease lapsed before the renewal", () => {
  let ids: string[];
  let result: InvocationResult;

  beforeAll(async () => {
    started.length = 0;
    ids = await submitSlow([
      { sleepMs: 900, lapseOthers: true },
      { sleepMs: 0 },
      { sleepMs: 0 },
      { sleepMs: 0 },
    ]);
    toLapse = [ids[2] as string];
    result = await runWorkerInvocation(t.db, options);
  });

  it("is left out of the rest of the batch: never run, left RUNNING for the sweeper", async () => {
    expect(result).toMatchObject({ claimed: 4, completed: 3, failed: 0, refused: 0 });
    expect(ran(ids[2] as string)).toBe(false);
    expect(await rawJob(t.raw, ids[2] as string)).toMatchObject({ status: "RUNNING" });
    expect(await outputsOf(t.raw, ids[2] as string)).toEqual([]);
    for (const id of [ids[0], ids[1], ids[3]] as string[]) {
      expect((await rawJob(t.raw, id)).status).toBe("COMPLETED");
    }
    expect(await leaseHeldMs(ids[3] as string)).toBeGreaterThan(3000);
  });

  it("is failed LEASE_EXPIRED by the next sweep, never run again", async () => {
    const next = await runWorkerInvocation(t.db, options);
    expect(next).toMatchObject({ swept: 1, claimed: 0 });
    const job = await rawJob(t.raw, ids[2] as string);
    expect(job.status).toBe("FAILED");
    expect((job.error as JobError).code).toBe("LEASE_EXPIRED");
    expect(await eventTypes(t.raw, ids[2] as string)).toEqual([
      "JOB_CREATED",
      "JOB_CLAIMED",
      "JOB_FAILED",
    ]);
    expect(ran(ids[2] as string)).toBe(false);
  });
});

describe("a batch whose remaining jobs all lapsed", () => {
  it("drops them all and still runs the next batch with the freed slot", {
    timeout: 20_000,
  }, async () => {
    started.length = 0;
    const ids = await submitSlow([
      { sleepMs: 900, lapseOthers: true },
      { sleepMs: 0 },
      { sleepMs: 0 },
      { sleepMs: 0 },
    ]);
    toLapse = [ids[1] as string, ids[2] as string];
    const result = await runWorkerInvocation(t.db, { ...options, batchSize: 3 });

    expect(result).toMatchObject({ claimed: 4, completed: 2, failed: 0, refused: 0, passes: 3 });
    expect(started.map((s) => s.jobId)).toEqual([ids[0], ids[3]]);
    expect((await rawJob(t.raw, ids[3] as string)).status).toBe("COMPLETED");
    const next = await runWorkerInvocation(t.db, options);
    expect(next.swept).toBe(2);
    for (const id of [ids[1], ids[2]] as string[]) {
      expect(((await rawJob(t.raw, id)).error as JobError).code).toBe("LEASE_EXPIRED");
    }
  });
});
