import { eq } from "drizzle-orm";
import { type Job, type RetryIntent, regenerationJobs } from "../../db/schema";
import type { Executor } from "../../db/types";
import { type AuditContext, recordAudit } from "./audit";
import { DomainError } from "./errors";
import { newId } from "./ids";
import {
  consumeRetryIntent,
  getRetryIntent,
  jobAlreadyRetried,
  lockSourceJob,
} from "./retry-intents";
import type { RetryPolicy } from "./retry-policy";
import { inTransaction } from "./unit-of-work";

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
  return new DomainError(
    "FOUR_EYES_REQUIRED",
    "the admin who approved this intent cannot also execute it",
    { intentId: intent.id, approvedBy: intent.approvedBy },
  );
}

/**
 * Executes a RetryIntent: in one transaction (the caller's, when given) it consumes the intent
 * (PENDING→CONSUMED), inserts a new PENDING job with the failed job's generator and input,
 * linked by `retry_of_job_id` and `retry_intent_id`, and records RETRY_INTENT_EXECUTED,
 * RETRY_INTENT_CONSUMED, JOB_CREATED and REGEN_JOB_RETRIED. The failed job is never touched.
 * Either all of it commits or none of it does; an intent yields exactly one job.
 */
export async function createRetryJobFromIntent(
  db: Executor,
  ctx: AuditContext,
  intentId: string,
  policy: RetryPolicy = {},
): Promise<{ intent: RetryIntent; job: Job }> {
  return inTransaction(db, async (tx) => {
    const pending = await getRetryIntent(tx, intentId);
    const refusal = fourEyesRefusal(pending, ctx.actor, policy);
    if (refusal) throw refusal;
    // Lock order is job, then intent, as when an intent is recorded: see lockSourceJob.
    const { job: source } = await lockSourceJob(tx, pending.sourceJobId);
    const intent = await consumeRetryIntent(tx, intentId, ctx);
    // The unique retry_of_job_id decides if the job was retried meanwhile; DO NOTHING keeps
    // the transaction usable so that the refusal can name that retry.
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
      .onConflictDoNothing({ target: regenerationJobs.retryOfJobId })
      .returning();
    if (!job) {
      const [retry] = await tx
        .select({ id: regenerationJobs.id })
        .from(regenerationJobs)
        .where(eq(regenerationJobs.retryOfJobId, source.id));
      throw jobAlreadyRetried(source.id, retry?.id);
    }
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
}
