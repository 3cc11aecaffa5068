import { sql } from "drizzle-orm";
import type { Job, RetryIntent } from "../../db/schema";
import type { Executor } from "../../db/types";
import type { AuditContext } from "./audit";
import type { DomainError } from "./errors";
import { newId } from "./ids";
import { refusal } from "./refusals";
import type { RetryPolicy } from "./retry-policy";
import {
  contextJson,
  createdOf,
  type IdempotencyKeyUse,
  intentFromJson,
  jobFromJson,
  keyJson,
  type Once,
  runOnce,
} from "./units";

export type { RetryPolicy } from "./retry-policy";

/**
 * The four-eyes refusal `actor` would meet executing `intent` under `policy`, or null. The
 * admin page asks it to grey out the Execute button; execution itself enforces it.
 */
export function fourEyesRefusal(
  intent: RetryIntent,
  actor: string,
  policy: RetryPolicy,
): DomainError | null {
  if (!policy.requireDistinctExecutor) return null;
  if (intent.status !== "PENDING" || intent.approvedBy !== actor) return null;
  return refusal("FOUR_EYES_REQUIRED", { intentId: intent.id, approvedBy: intent.approvedBy });
}

/**
 * Executes a RetryIntent in one statement (the database's `regent_execute_retry_intent`): it
 * locks the failed job (as recording an intent does: job, then intent), consumes the intent
 * (PENDING→CONSUMED) with one guarded UPDATE, inserts a new PENDING job with the failed job's
 * generator and input, linked by `retry_of_job_id` and `retry_intent_id`, records
 * RETRY_INTENT_CONSUMED, RETRY_INTENT_EXECUTED, JOB_CREATED and REGEN_JOB_RETRIED, and wakes
 * the worker. The failed job is never touched. Either all of it commits or none of it does; an
 * intent yields exactly one job: of concurrent executes one wins, the others wait on the job's
 * lock and get INTENT_NOT_PENDING naming the job. Also refused: INTENT_NOT_FOUND,
 * FOUR_EYES_REQUIRED, INTENT_EXPIRED (by the database's clock), JOB_ALREADY_RETRIED. With an
 * Idempotency-Key, the key is handled in the same statement.
 */
export async function createRetryJobFromIntentOnce(
  db: Executor,
  ctx: AuditContext,
  intentId: string,
  policy: RetryPolicy = {},
  key?: IdempotencyKeyUse,
): Promise<Once<{ intent: RetryIntent; job: Job }>> {
  return runOnce(
    db,
    sql`regent_execute_retry_intent(${intentId}, ${newId()}, ${policy.requireDistinctExecutor === true},
      ${contextJson(ctx)}, ${keyJson(key)})`,
    (body) => ({
      intent: intentFromJson(body.intent as Record<string, unknown>),
      job: jobFromJson(body.job as Record<string, unknown>),
    }),
  );
}

/** Executes a RetryIntent: see createRetryJobFromIntentOnce. */
export async function createRetryJobFromIntent(
  db: Executor,
  ctx: AuditContext,
  intentId: string,
  policy: RetryPolicy = {},
): Promise<{ intent: RetryIntent; job: Job }> {
  return createdOf(await createRetryJobFromIntentOnce(db, ctx, intentId, policy));
}
