import { inArray, sql } from "drizzle-orm";
import { type Job, regenerationJobs } from "../../db/schema";
import type { Db } from "../../db/types";
import { recordAudit } from "../../functions/domain/audit";
import { newId } from "../../functions/domain/ids";
import { getJob, submitJob } from "../../functions/domain/jobs";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { catalogue } from "./catalog";

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

/**
 * `n` FAILED jobs, fast: submitted through the domain in one transaction, then claimed and
 * failed as a worker would, each step one set-based UPDATE with its audit rows in the same
 * transaction. Their input has no `failAttempts`, so a demo retry of them completes. Returns
 * the jobs, sorted by id.
 */
export async function failedJobs(
  db: Db,
  n: number,
  options: { generator?: string; code?: string } = {},
): Promise<Job[]> {
  const generator = options.generator ?? "demo";
  const code = options.code ?? "DEMO_FAILURE";
  const error = JSON.stringify({ code, message: "failed in a test" });
  await catalogue(db, generator);
  const ids = await db.transaction(async (tx) => {
    const created: string[] = [];
    for (let i = 0; i < n; i++) {
      const job = await submitJob(tx, submitter, { generator, input: { text: `bulk ${i}` } });
      created.push(job.id);
    }
    return created;
  });
  const idList = sql`(SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`;
  await db.transaction(async (tx) => {
    await tx.execute(sql`UPDATE regeneration_jobs
      SET status = 'RUNNING', claimed_by = 'worker:test', claimed_at = now(), lease_expires_at = now() + interval '1 minute'
      WHERE id IN ${idList} AND status = 'PENDING'`);
    await tx.execute(sql`INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
      SELECT 'JOB_CLAIMED', 'worker:test', 'job', id, '{}'::jsonb FROM ${idList} AS ids(id)`);
  });
  await db.transaction(async (tx) => {
    await tx.execute(sql`UPDATE regeneration_jobs
      SET status = 'FAILED', finished_at = now(), error = ${error}::jsonb
      WHERE id IN ${idList} AND status = 'RUNNING'`);
    await tx.execute(sql`INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
      SELECT 'JOB_FAILED', 'worker:test', 'job', id, jsonb_build_object('code', ${code}::text)
      FROM ${idList} AS ids(id)`);
  });
  return db
    .select()
    .from(regenerationJobs)
    .where(inArray(regenerationJobs.id, ids))
    .orderBy(regenerationJobs.id);
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

/** A FAILED job of `generator` whose error has `code`. */
export async function failedJobOf(db: Db, generator: string, code: string): Promise<Job> {
  await catalogue(db, generator);
  const job = await submitJob(db, submitter, { generator, input: { text: generator } });
  return failJob(db, job.id, code);
}

/**
 * The FAILED newest job of a chain `depth` retries long, each retry approved, executed and
 * failed in turn (approved past any budget, so that a test can build the chain it needs).
 */
export async function failedChain(
  db: Db,
  depth: number,
  options: { generator?: string; code?: string } = {},
): Promise<Job> {
  const generator = options.generator ?? "demo";
  const code = options.code ?? "DEMO_FAILURE";
  let job = await failedJobOf(db, generator, code);
  for (let i = 0; i < depth; i++) {
    const intent = await createRetryIntent(db, admin, {
      sourceJobId: job.id,
      reasonCode: "OTHER",
      reasonText: `retry ${i + 1}`,
      overrideBudget: true,
    });
    const { job: retry } = await createRetryJobFromIntent(db, secondAdmin, intent.id);
    job = await failJob(db, retry.id, code);
  }
  return job;
}

/**
 * A PENDING intent for a new failed job, approved two hours ago and expired an hour ago: written
 * directly, as no domain function approves into the past, with its event in the same transaction.
 */
export async function expiredIntent(db: Db): Promise<{ intentId: string; jobId: string }> {
  const job = await failedJob(db, { text: "expired" });
  const intentId = newId();
  await db.transaction(async (tx) => {
    await tx.execute(sql`INSERT INTO retry_intents
      (id, source_job_id, reason_code, reason_text, approved_by, approved_at, created_at, expires_at)
      VALUES (${intentId}, ${job.id}, 'OTHER', 'approved long ago', ${admin.actor},
        now() - interval '2 hours', now() - interval '2 hours', now() - interval '1 hour')`);
    await recordAudit(tx, admin, [
      {
        type: "RETRY_INTENT_CREATED",
        subjectType: "retry_intent",
        subjectId: intentId,
        data: { sourceJobId: job.id },
      },
    ]);
  });
  return { intentId, jobId: job.id };
}
