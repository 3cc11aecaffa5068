import { beforeAll, describe, expect, it } from "vitest";
import type { JobError } from "../../db/schema";
import { canonicalJson, sha256Hex } from "../../functions/domain/canonical-json";
import { isDomainError } from "../../functions/domain/errors";
import { submitJob } from "../../functions/domain/jobs";
import { createRetryIntent, getRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { claimJobs } from "../../functions/execution/claimer";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, secondAdmin, submitter } from "../helpers/fixtures";
import { eventTypes, outputsOf, rawJob } from "../helpers/worker";

/**
 * Recovery is a human decision: a FAILED job is retried only through a RetryIntent, whose
 * execution (the retry service) creates a new job; the unchanged worker then runs that job
 * like any other. The original job and its audit history are never touched.
 */
let t: TestDatabase;
const work = () =>
  runWorkerInvocation(t.db, { budgetMs: 10_000, concurrency: 4, batchSize: 10, log: () => {} });

beforeAll(async () => {
  t = await freshDatabase();
});

async function retry(jobId: string) {
  const intent = await createRetryIntent(t.db, admin, {
    sourceJobId: jobId,
    reasonCode: "TRANSIENT_FAILURE",
    reasonText: "the demo fails once on purpose",
  });
  return createRetryJobFromIntent(t.db, secondAdmin, intent.id);
}

describe("a retried job, executed by the worker", () => {
  let original: string;
  let originalBefore: Record<string, unknown>;
  let originalEvents: string[];
  let intentId: string;
  let retryJob: string;

  beforeAll(async () => {
    original = (
      await submitJob(t.db, submitter, {
        generator: "demo",
        input: { text: "hello", failAttempts: 1 },
      })
    ).id;
    await work();
    originalBefore = await rawJob(t.raw, original);
    originalEvents = await eventTypes(t.raw, original);
    const created = await retry(original);
    intentId = created.intent.id;
    retryJob = created.job.id;
    await work();
  });

  it("first fails the original with DEMO_FAILURE (retry depth 0 < failAttempts 1)", () => {
    expect(originalBefore.status).toBe("FAILED");
    expect((originalBefore.error as JobError).code).toBe("DEMO_FAILURE");
  });

  it("runs the retry job (depth 1) to COMPLETED with a new output", async () => {
    const job = await rawJob(t.raw, retryJob);
    expect(job).toMatchObject({
      status: "COMPLETED",
      retry_of_job_id: original,
      retry_intent_id: intentId,
      error: null,
    });
    const outputs = await outputsOf(t.raw, retryJob);
    expect(outputs).toHaveLength(1);
    expect(outputs[0]?.content).toEqual({ text: "HELLO" });
    expect(outputs[0]?.contentSha256).toBe(await sha256Hex('{"text":"HELLO"}'));
    expect(outputs[0]?.contentSha256).toBe(await sha256Hex(canonicalJson({ text: "HELLO" })));
    expect(await eventTypes(t.raw, retryJob)).toEqual([
      "JOB_CREATED",
      "JOB_CLAIMED",
      "JOB_COMPLETED",
    ]);
  });

  it("leaves the original job, its (absent) output and its history unchanged", async () => {
    expect(await rawJob(t.raw, original)).toEqual(originalBefore);
    expect(await outputsOf(t.raw, original)).toEqual([]);
    // The retry added REGEN_JOB_RETRIED about the original; nothing of its own was rewritten.
    expect(await eventTypes(t.raw, original)).toEqual([...originalEvents, "REGEN_JOB_RETRIED"]);
  });

  it("does not let the consumed RetryIntent be used again", async () => {
    expect((await getRetryIntent(t.db, intentId)).status).toBe("CONSUMED");
    const again = await createRetryJobFromIntent(t.db, admin, intentId).catch((e: unknown) => e);
    expect(isDomainError(again, "INTENT_NOT_PENDING")).toBe(true);
    expect(isDomainError(again) && again.details).toMatchObject({ jobId: retryJob });
    const { rows } = await t.raw.query(
      "SELECT count(*)::int AS n FROM regeneration_jobs WHERE retry_intent_id = $1",
      [intentId],
    );
    expect(rows[0].n).toBe(1);
  });
});

describe("retry depth along a chain", () => {
  it("gives each retry its depth, so failAttempts: 2 succeeds on the second retry", async () => {
    const original = (
      await submitJob(t.db, submitter, {
        generator: "demo",
        input: { text: "deep", failAttempts: 2 },
      })
    ).id;
    await work();
    const first = (await retry(original)).job.id;
    await work();
    expect(((await rawJob(t.raw, first)).error as JobError).code).toBe("DEMO_FAILURE");
    const second = (await retry(first)).job.id;
    await work();
    expect((await rawJob(t.raw, second)).status).toBe("COMPLETED");
    expect((await outputsOf(t.raw, second))[0]?.content).toEqual({ text: "DEEP" });
  });
});

describe("recovering a job whose worker died", () => {
  it("retries a LEASE_EXPIRED job into a new job the worker completes", async () => {
    const job = (await submitJob(t.db, submitter, { generator: "demo", input: { text: "lost" } }))
      .id;
    await claimJobs(
      t.db,
      { workerId: "crashed", actor: "worker:crashed" },
      { batchSize: 1, leaseSeconds: 60 },
    );
    await t.raw.query(
      "UPDATE regeneration_jobs SET lease_expires_at = now() - interval '1 minute' WHERE id = $1",
      [job],
    );
    await work();
    expect(((await rawJob(t.raw, job)).error as JobError).code).toBe("LEASE_EXPIRED");
    const recovered = (await retry(job)).job.id;
    await work();
    expect((await rawJob(t.raw, recovered)).status).toBe("COMPLETED");
    expect((await outputsOf(t.raw, recovered))[0]?.content).toEqual({ text: "LOST" });
    expect(await outputsOf(t.raw, job)).toEqual([]);
  });
});
