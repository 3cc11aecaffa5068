import { type Job, type RetryIntent, regenerationJobs, retryIntents } from "../../db/schema";
import type { Executor } from "../../db/types";
import type { AuditContext } from "./audit";
import { rowFromJson } from "./json-rows";
import { createdOf, type IdempotencyKeyUse, type Once, runOnce } from "./units";

/**
 * Executes a RetryIntent in one statement (the database's `regent_execute_retry_intent`): it
 * locks the failed job (as recording an intent does: job, then intent), consumes the intent
 * (PENDING→CONSUMED) with one guarded UPDATE, inserts a new PENDING job with the failed job's
 * generator and input, linked by `retry_of_job_id` and `retry_intent_id`, records
 * RETRY_INTENT_CONSUMED, RETRY_INTENT_EXECUTED, JOB_CREATED and REGEN_JOB_RETRIED, and wakes
 * the worker. The failed job is never touched. Either all of it commits or none of it does; an
 * intent yields exactly one job: of concurrent executes one wins, the others wait on the job's
 * lock and get INTENT_NOT_PENDING naming the job. Also refused: INTENT_NOT_FOUND,
 * FOUR_EYES_REQUIRED (when the database's policy asks for it), INTENT_EXPIRED (by the
 * database's clock), JOB_ALREADY_RETRIED. With an
 * Idempotency-Key, the key is handled in the same statement.
 */
export async function createRetryJobFromIntentOnce(
  db: Executor,
  ctx: AuditContext,
  intentId: string,
  key?: IdempotencyKeyUse,
): Promise<Once<{ intent: RetryIntent; job: Job }>> {
  return runOnce(db, "execute_retry_intent", ctx, { intentId }, key, (body) => ({
    intent: rowFromJson(retryIntents, body.intent as Record<string, unknown>),
    job: rowFromJson(regenerationJobs, body.job as Record<string, unknown>),
  }));
}

/** Executes a RetryIntent: see createRetryJobFromIntentOnce. */
export async function createRetryJobFromIntent(
  db: Executor,
  ctx: AuditContext,
  intentId: string,
): Promise<{ intent: RetryIntent; job: Job }> {
  return createdOf(await createRetryJobFromIntentOnce(db, ctx, intentId));
}
