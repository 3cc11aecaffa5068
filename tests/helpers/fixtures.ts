import { sql } from "drizzle-orm";
import type { Job } from "../../db/schema";
import type { Db } from "../../db/types";
import { recordAudit } from "../../functions/domain/audit";
import { getJob, submitJob } from "../../functions/domain/jobs";
import { createRetryIntent } from "../../functions/domain/retry-intents";

export const admin = {
  actor: "admin:alice",
  requestId: "req-test",
  ip: "127.0.0.1",
  userAgent: "vitest",
};
export const secondAdmin = {
  actor: "admin:bob",
  requestId: "req-test-2",
  ip: "127.0.0.1",
  userAgent: "vitest",
};
export const submitter = {
  actor: "token:submitter",
  requestId: "req-sub",
  ip: "127.0.0.1",
  userAgent: "vitest",
};

/** Moves a job as a worker would: claimed, then failed, each step audited. */
export async function failJob(db: Db, jobId: string, code = "DEMO_FAILURE"): Promise<Job> {
  const worker = { actor: "worker:test" };
  await db.transaction(async (tx) => {
    await tx.execute(sql`UPDATE regeneration_jobs
      SET status = 'RUNNING', claimed_by = 'worker:test', claimed_at = now(), lease_expires_at = now() + interval '1 minute'
      WHERE id = ${jobId} AND status = 'PENDING'`);
    await recordAudit(tx, worker, [{ type: "JOB_CLAIMED", subjectType: "job", subjectId: jobId }]);
  });
  await db.transaction(async (tx) => {
    await tx.execute(sql`UPDATE regeneration_jobs
      SET status = 'FAILED', finished_at = now(), error = ${JSON.stringify({ code, message: "failed in a test" })}::jsonb
      WHERE id = ${jobId} AND status = 'RUNNING'`);
    await recordAudit(tx, worker, [
      { type: "JOB_FAILED", subjectType: "job", subjectId: jobId, data: { code } },
    ]);
  });
  return getJob(db, jobId);
}

/** Moves a job as a worker would: claimed, then completed with an output. */
export async function completeJob(
  db: Db,
  jobId: string,
  content: unknown = { text: "OK" },
): Promise<Job> {
  const worker = { actor: "worker:test" };
  await db.transaction(async (tx) => {
    await tx.execute(sql`UPDATE regeneration_jobs
      SET status = 'RUNNING', claimed_by = 'worker:test', claimed_at = now(), lease_expires_at = now() + interval '1 minute'
      WHERE id = ${jobId} AND status = 'PENDING'`);
    await recordAudit(tx, worker, [{ type: "JOB_CLAIMED", subjectType: "job", subjectId: jobId }]);
  });
  await db.transaction(async (tx) => {
    await tx.execute(sql`UPDATE regeneration_jobs SET status = 'COMPLETED', finished_at = now()
      WHERE id = ${jobId} AND status = 'RUNNING'`);
    await tx.execute(sql`INSERT INTO regeneration_outputs (id, job_id, content, content_sha256, generator_version)
      VALUES (${`out_${jobId}`}, ${jobId}, ${JSON.stringify(content)}::jsonb, 'sha', 'test')`);
    await recordAudit(tx, worker, [
      { type: "JOB_COMPLETED", subjectType: "job", subjectId: jobId },
    ]);
  });
  return getJob(db, jobId);
}

/** A demo job that already FAILED. */
export async function failedJob(db: Db, input: unknown = { text: "hello" }): Promise<Job> {
  const job = await submitJob(db, submitter, { generator: "demo", input });
  return failJob(db, job.id);
}

/** A FAILED demo job with a PENDING retry intent recorded by `admin`; returns the intent's id. */
export async function pendingIntent(db: Db, reasonText = "try again"): Promise<string> {
  const job = await failedJob(db);
  const intent = await createRetryIntent(db, admin, {
    sourceJobId: job.id,
    reasonCode: "OTHER",
    reasonText,
  });
  return intent.id;
}
