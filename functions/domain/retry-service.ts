import { eq } from "drizzle-orm";
import { type Job, type RetryIntent, regenerationJobs } from "../../db/schema";
import type { Db } from "../../db/types";
import { type AuditContext, recordAudit } from "./audit";
import { DomainError, isUniqueViolation } from "./errors";
import { newId } from "./ids";
import {
  consumeRetryIntent,
  getRetryIntent,
  jobAlreadyRetried,
  lockSourceJob,
} from "./retry-intents";

export interface RetryPolicy {
  /** Four-eyes rule: the admin who executes an intent must not be the one who approved it. */
  requireDistinctExecutor?: boolean;
}

/**
 * Executes a RetryIntent: in one transaction it consumes the intent (PENDING→CONSUMED),
 * inserts a new PENDING job with the failed job's generator and input, linked by
 * `retry_of_job_id` and `retry_intent_id`, and records RETRY_INTENT_EXECUTED,
 * RETRY_INTENT_CONSUMED, JOB_CREATED and REGEN_JOB_RETRIED. The failed job is never touched.
 * Either all of it commits or none of it does; an intent yields exactly one job.
 */
export async function createRetryJobFromIntent(
  db: Db,
  ctx: AuditContext,
  intentId: string,
  policy: RetryPolicy = {},
): Promise<{ intent: RetryIntent; job: Job }> {
  if (policy.requireDistinctExecutor) {
    const intent = await getRetryIntent(db, intentId);
    if (intent.status === "PENDING" && intent.approvedBy === ctx.actor) {
      throw new DomainError(
        "FOUR_EYES_REQUIRED",
        "the admin who approved this intent cannot also execute it",
        { intentId, approvedBy: intent.approvedBy },
      );
    }
  }
  try {
    return await db.transaction(async (tx) => {
      // Lock order is job, then intent, as when an intent is recorded: see lockSourceJob.
      const source = await lockSourceJob(tx, (await getRetryIntent(tx, intentId)).sourceJobId);
      const intent = await consumeRetryIntent(tx, intentId, ctx);
      const [job] = await tx
        .insert(regenerationJobs)
        .values({
          id: newId(),
          generator: source.generator,
          input: source.input,
          retryOfJobId: source.id,
          retryIntentId: intent.id,
          createdBy: ctx.actor,
        })
        .returning();
      if (!job) throw new Error("insert returned no job");
      await recordAudit(tx, ctx, [
        {
          type: "RETRY_INTENT_EXECUTED",
          subjectType: "retry_intent",
          subjectId: intent.id,
          data: { sourceJobId: source.id, jobId: job.id },
        },
        {
          type: "JOB_CREATED",
          subjectType: "job",
          subjectId: job.id,
          data: { generator: job.generator, retryOfJobId: source.id, retryIntentId: intent.id },
        },
        {
          type: "REGEN_JOB_RETRIED",
          subjectType: "job",
          subjectId: source.id,
          data: {
            retryJobId: job.id,
            retryIntentId: intent.id,
            reasonCode: intent.reasonCode,
            approvedBy: intent.approvedBy,
          },
        },
      ]);
      return { intent, job };
    });
  } catch (error) {
    if (isUniqueViolation(error, "regeneration_jobs_retry_of_job_id_key")) {
      const intent = await getRetryIntent(db, intentId);
      const [retry] = await db
        .select({ id: regenerationJobs.id })
        .from(regenerationJobs)
        .where(eq(regenerationJobs.retryOfJobId, intent.sourceJobId));
      throw jobAlreadyRetried(intent.sourceJobId, retry?.id);
    }
    throw error;
  }
}
