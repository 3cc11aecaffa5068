import { beforeAll, describe, expect, it } from "vitest";
import type { JobError } from "../../db/schema";
import { submitJob } from "../../functions/domain/jobs";
import {
  type Claimant,
  claimJobs,
  finishJobs,
  renewLeases,
} from "../../functions/execution/claimer";
import { type InvocationResult, runWorkerInvocation } from "../../functions/execution/invocation";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { submitter } from "../helpers/fixtures";
import { eventTypes, outputsOf, rawJob } from "../helpers/worker";

/**
 * A worker that dies leaves its job RUNNING; once the lease lapses, the next invocation's
 * sweep fails the job with LEASE_EXPIRED and never runs it again. Time is moved by backdating
 * the lease in the database, never by waiting.
 */
let t: TestDatabase;
const dead: Claimant = { workerId: "dead-worker", actor: "worker:dead-worker" };
const alive: Claimant = { workerId: "busy-worker", actor: "worker:busy-worker" };
let expiredJob: string;
let busyJob: string;
let freshJob: string;
let sweep: InvocationResult;

async function claimOne(claimant: Claimant, leaseSeconds = 60): Promise<string> {
  const [job] = await claimJobs(t.db, claimant, { batchSize: 1, leaseSeconds });
  if (!job) throw new Error("nothing to claim");
  return job.id;
}

const completion = (jobId: string) => ({
  jobId,
  ok: true as const,
  content: '{"text":"LATE"}',
  contentSha256: "0".repeat(64),
  generatorVersion: "demo@1",
});

beforeAll(async () => {
  t = await freshDatabase();
  await submitJob(t.db, submitter, { generator: "demo", input: { text: "abandoned" } });
  expiredJob = await claimOne(dead);
  await submitJob(t.db, submitter, { generator: "demo", input: { text: "in progress" } });
  busyJob = await claimOne(alive);
  freshJob = (await submitJob(t.db, submitter, { generator: "demo", input: { text: "new" } })).id;
  // The dead worker's lease ran out a second ago: a lease-only change, which the database allows.
  await t.raw.query(
    "UPDATE regeneration_jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1",
    [expiredJob],
  );
  sweep = await runWorkerInvocation(t.db, {
    budgetMs: 10_000,
    concurrency: 2,
    batchSize: 10,
    log: () => {},
  });
});

describe("lease expiry", () => {
  it("fails a job whose lease expired with LEASE_EXPIRED, audited, and without an output", async () => {
    expect(sweep.swept).toBe(1);
    const job = await rawJob(t.raw, expiredJob);
    expect(job.status).toBe("FAILED");
    expect(job.finished_at).toBeInstanceOf(Date);
    expect((job.error as JobError).code).toBe("LEASE_EXPIRED");
    expect((job.error as JobError).message).toMatch(/dead-worker/);
    expect(await outputsOf(t.raw, expiredJob)).toEqual([]);
    const { rows } = await t.raw.query(
      "SELECT actor, data FROM audit_events WHERE subject_id = $1 AND type = 'JOB_FAILED'",
      [expiredJob],
    );
    expect(rows).toEqual([
      {
        actor: `worker:${sweep.invocationId}`,
        data: expect.objectContaining({ code: "LEASE_EXPIRED", claimedBy: "dead-worker" }),
      },
    ]);
  });

  it("never runs the swept job again", async () => {
    expect(sweep.claimed).toBe(1);
    expect((await rawJob(t.raw, freshJob)).status).toBe("COMPLETED");
    expect(await eventTypes(t.raw, expiredJob)).toEqual([
      "JOB_CREATED",
      "JOB_CLAIMED",
      "JOB_FAILED",
    ]);
  });

  it("leaves a job whose lease has not expired to its worker", async () => {
    const job = await rawJob(t.raw, busyJob);
    expect(job).toMatchObject({ status: "RUNNING", claimed_by: "busy-worker", error: null });
  });

  it("refuses a completion that arrives after the sweep, changing nothing", async () => {
    const before = await rawJob(t.raw, expiredJob);
    const finished = await finishJobs(t.db, dead, [completion(expiredJob)]);
    expect(finished.size).toBe(0);
    expect(await rawJob(t.raw, expiredJob)).toEqual(before);
    expect(await outputsOf(t.raw, expiredJob)).toEqual([]);
    const late = await finishJobs(t.db, dead, [
      { jobId: expiredJob, ok: false, error: { code: "DEMO_FAILURE", message: "late" } },
    ]);
    expect(late.size).toBe(0);
    expect(await rawJob(t.raw, expiredJob)).toEqual(before);
  });

  it("refuses a completion from a worker that does not hold the claim", async () => {
    const finished = await finishJobs(t.db, dead, [completion(busyJob)]);
    expect(finished.size).toBe(0);
    expect((await rawJob(t.raw, busyJob)).status).toBe("RUNNING");
    expect(await outputsOf(t.raw, busyJob)).toEqual([]);
  });

  it("takes the completion of the worker that holds the claim, once", async () => {
    const first = await finishJobs(t.db, alive, [completion(busyJob)]);
    expect([...first]).toEqual([busyJob]);
    const again = await finishJobs(t.db, alive, [completion(busyJob)]);
    expect(again.size).toBe(0);
    expect(await outputsOf(t.raw, busyJob)).toHaveLength(1);
    expect(await eventTypes(t.raw, busyJob)).toEqual([
      "JOB_CREATED",
      "JOB_CLAIMED",
      "JOB_COMPLETED",
    ]);
  });
});

describe("lease renewal", () => {
  it("extends only the claimant's own unexpired leases, changing nothing else", async () => {
    const mine = (await submitJob(t.db, submitter, { generator: "demo", input: { text: "a" } })).id;
    await claimOne(alive, 30);
    const lapsed = (await submitJob(t.db, submitter, { generator: "demo", input: { text: "b" } }))
      .id;
    await claimOne(alive, 30);
    const theirs = (await submitJob(t.db, submitter, { generator: "demo", input: { text: "c" } }))
      .id;
    await claimOne(dead, 30);
    await t.raw.query(
      "UPDATE regeneration_jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1",
      [lapsed],
    );
    const before = await rawJob(t.raw, mine);
    const renewed = await renewLeases(t.db, alive, [mine, lapsed, theirs], 3600);
    expect([...renewed]).toEqual([mine]);
    const after = await rawJob(t.raw, mine);
    expect((after.lease_expires_at as Date).getTime()).toBeGreaterThan(
      (before.lease_expires_at as Date).getTime(),
    );
    expect({ ...after, lease_expires_at: null }).toEqual({ ...before, lease_expires_at: null });
    expect((await rawJob(t.raw, lapsed)).status).toBe("RUNNING");
  });
});
