import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import {
  type RetryIntent,
  type RetryIntentStatus,
  type RetryReasonCode,
  regenerationJobs,
  retryIntents,
  retryReasonCode,
} from "../../db/schema";
import { type Executor, rowsOf, type Tx } from "../../db/types";
import { type AuditContext, recordAudit } from "./audit";
import { DomainError } from "./errors";
import { newId } from "./ids";
import { newestFirstAfter, type Page, pageOf } from "./pagination";
import {
  budgetOf,
  DEFAULT_INTENT_TTL_HOURS,
  MAX_INTENT_TTL_HOURS,
  type RetryPolicy,
} from "./retry-policy";
import { inTransaction } from "./unit-of-work";

export const REASON_CODES = retryReasonCode.enumValues;
export const REASON_TEXT_MAX = 2000;
export const OUTPUT_REF_MAX = 500;

export interface CreateRetryIntentInput {
  sourceJobId: string;
  reasonCode: RetryReasonCode;
  reasonText: string;
  sourceOutputRef?: string | null | undefined;
  /** Approve past the chain's retry budget; needs reason code OTHER. */
  overrideBudget?: boolean | undefined;
  /** Lifetime of this approval, 1..720 hours; default INTENT_TTL_HOURS. */
  expiresInHours?: number | undefined;
}

/** The lifetime asked for, or the policy's; refused outside 1..720 whole hours. */
export function intentTtlHours(requested: number | undefined, policy: RetryPolicy): number {
  const hours = requested ?? policy.intentTtlHours ?? DEFAULT_INTENT_TTL_HOURS;
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_INTENT_TTL_HOURS) {
    throw new DomainError(
      "VALIDATION_FAILED",
      `expiresInHours must be a whole number from 1 to ${MAX_INTENT_TTL_HOURS}`,
      { field: "expiresInHours" },
    );
  }
  return hours;
}

/** `now() + hours` in the database's clock, which also judges expiry. */
export const expiresIn = (hours: number) => sql`now() + make_interval(hours => ${hours})`;

export function budgetExhausted(jobId: string, depth: number, budget: number): DomainError {
  return new DomainError(
    "RETRY_BUDGET_EXHAUSTED",
    `job ${jobId} is retry ${depth} of its chain, which has used its budget of ${budget} retries; approve past it with overrideBudget and reason code OTHER`,
    { jobId, depth, budget },
  );
}

/** Trims a human reason and checks it is 1..2000 characters. */
export function normaliseReasonText(text: string, field = "reasonText"): string {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > REASON_TEXT_MAX) {
    throw new DomainError(
      "VALIDATION_FAILED",
      `${field} must be 1 to ${REASON_TEXT_MAX} characters after trimming`,
      { field },
    );
  }
  return trimmed;
}

/**
 * Records an admin's approval to retry a FAILED job. Refused when the job is missing
 * (JOB_NOT_FOUND), not FAILED (JOB_NOT_FAILED), has a PENDING intent already
 * (INTENT_ALREADY_PENDING) or was already retried (JOB_ALREADY_RETRIED).
 * The intent and its RETRY_INTENT_CREATED event commit together, in the caller's transaction
 * when one is given.
 */
export async function createRetryIntent(
  db: Executor,
  ctx: AuditContext,
  request: CreateRetryIntentInput,
  policy: RetryPolicy = {},
): Promise<RetryIntent> {
  const reasonText = normaliseReasonText(request.reasonText);
  const ttlHours = intentTtlHours(request.expiresInHours, policy);
  if (request.overrideBudget && request.reasonCode !== "OTHER") {
    throw new DomainError(
      "VALIDATION_FAILED",
      "overrideBudget needs reason code OTHER: going past the retry budget is an exception, explained in the reason text",
      { field: "overrideBudget" },
    );
  }
  if (!REASON_CODES.includes(request.reasonCode)) {
    throw new DomainError(
      "VALIDATION_FAILED",
      `reasonCode must be one of ${REASON_CODES.join(", ")}`,
      { field: "reasonCode" },
    );
  }
  const sourceOutputRef = request.sourceOutputRef?.trim() || null;
  if (sourceOutputRef && sourceOutputRef.length > OUTPUT_REF_MAX) {
    throw new DomainError(
      "VALIDATION_FAILED",
      `sourceOutputRef is at most ${OUTPUT_REF_MAX} characters`,
      { field: "sourceOutputRef" },
    );
  }
  return inTransaction(db, async (tx) => {
    const budget = budgetOf(policy);
    const { job, depth } = await lockSourceJob(tx, request.sourceJobId, budget);
    if (job.status !== "FAILED") {
      throw new DomainError(
        "JOB_NOT_FAILED",
        `job ${job.id} is ${job.status}; only a FAILED job can be retried`,
        { jobId: job.id, status: job.status },
      );
    }
    const [retry] = await tx
      .select({ id: regenerationJobs.id })
      .from(regenerationJobs)
      .where(eq(regenerationJobs.retryOfJobId, job.id));
    if (retry) throw jobAlreadyRetried(job.id, retry.id);
    const overBudget = depth >= budget;
    if (overBudget && !request.overrideBudget) throw budgetExhausted(job.id, depth, budget);

    // The partial unique index decides between two PENDING intents for one job; DO NOTHING
    // keeps the transaction usable so that the refusal can name the intent already there.
    const [intent] = await tx
      .insert(retryIntents)
      .values({
        id: newId(),
        sourceJobId: job.id,
        sourceOutputRef,
        reasonCode: request.reasonCode,
        reasonText,
        approvedBy: ctx.actor,
        budgetOverride: overBudget,
        expiresAt: expiresIn(ttlHours),
      })
      .onConflictDoNothing({
        target: retryIntents.sourceJobId,
        where: sql`status = 'PENDING'`,
      })
      .returning();
    if (!intent) {
      const [pending] = await tx
        .select({ id: retryIntents.id })
        .from(retryIntents)
        .where(and(eq(retryIntents.sourceJobId, job.id), eq(retryIntents.status, "PENDING")));
      throw intentAlreadyPending(job.id, pending?.id);
    }
    await recordAudit(tx, ctx, [
      {
        type: "RETRY_INTENT_CREATED",
        subjectType: "retry_intent",
        subjectId: intent.id,
        data: {
          sourceJobId: job.id,
          reasonCode: intent.reasonCode,
          reasonText,
          retryDepth: depth,
          budget,
          ...(overBudget ? { budgetOverride: true } : {}),
          expiresAt: intent.expiresAt.toISOString(),
        },
      },
    ]);
    return intent;
  });
}

function intentAlreadyPending(jobId: string, intentId: string | undefined) {
  return new DomainError(
    "INTENT_ALREADY_PENDING",
    `job ${jobId} already has a PENDING retry intent`,
    {
      jobId,
      intentId,
    },
  );
}

export function jobAlreadyRetried(jobId: string, retryJobId: string | undefined) {
  return new DomainError(
    "JOB_ALREADY_RETRIED",
    `job ${jobId} was already retried by job ${retryJobId}`,
    {
      jobId,
      retryJobId,
    },
  );
}

/**
 * Locks a failed job's row for the rest of the transaction, and reads its retry depth (from
 * its lineage, by the database's own `regent_retry_depth`). Recording an intent and executing
 * one both take this lock first, so for one job they run one after the other and each sees
 * what the other committed: no intent slips in beside a retry being created.
 * (NO KEY UPDATE: the row itself never changes, and it does not block the foreign-key checks of
 * rows that point at the job.) With `budget`, the same statement tells the database the retry
 * budget its triggers hold new intents to, for this transaction only.
 */
export async function lockSourceJob(tx: Tx, jobId: string, budget?: number) {
  const [row] = await tx
    .select({
      job: regenerationJobs,
      depth: sql<number>`regent_retry_depth(${regenerationJobs.id})`,
      ...(budget === undefined
        ? {}
        : { budget: sql<string>`set_config('regent.retry_budget', ${String(budget)}, true)` }),
    })
    .from(regenerationJobs)
    .where(eq(regenerationJobs.id, jobId))
    .for("no key update");
  if (!row) throw new DomainError("JOB_NOT_FOUND", `no job with id ${jobId}`, { jobId });
  return { job: row.job, depth: Number(row.depth) };
}

export async function findRetryIntent(db: Executor, id: string): Promise<RetryIntent | undefined> {
  const [intent] = await db.select().from(retryIntents).where(eq(retryIntents.id, id));
  return intent;
}

/** The intent, or INTENT_NOT_FOUND. */
export async function getRetryIntent(db: Executor, id: string): Promise<RetryIntent> {
  const intent = await findRetryIntent(db, id);
  if (!intent)
    throw new DomainError("INTENT_NOT_FOUND", `no retry intent with id ${id}`, { intentId: id });
  return intent;
}

/** The job an intent created, if it was consumed. */
export async function findJobCreatedBy(db: Executor, intentId: string) {
  const [job] = await db
    .select()
    .from(regenerationJobs)
    .where(eq(regenerationJobs.retryIntentId, intentId));
  return job;
}

async function notPending(db: Executor, id: string): Promise<DomainError> {
  const intent = await getRetryIntent(db, id);
  if (intent.status === "PENDING" && intent.expiresAt.getTime() <= Date.now()) {
    return intentExpired(intent);
  }
  const job = intent.status === "CONSUMED" ? await findJobCreatedBy(db, id) : undefined;
  return new DomainError(
    "INTENT_NOT_PENDING",
    `retry intent ${id} is ${intent.status}, not PENDING`,
    {
      intentId: id,
      status: intent.status,
      ...(job ? { jobId: job.id } : {}),
    },
  );
}

export function intentExpired(intent: RetryIntent): DomainError {
  return new DomainError(
    "INTENT_EXPIRED",
    `retry intent ${intent.id} expired at ${intent.expiresAt.toISOString()}; approve a new one`,
    { intentId: intent.id, expiresAt: intent.expiresAt.toISOString() },
  );
}

/**
 * Moves a PENDING, unexpired intent to CONSUMED with one guarded UPDATE and records
 * RETRY_INTENT_CONSUMED, inside the caller's transaction. Of many concurrent consumers exactly
 * one gets the row; the others get INTENT_NOT_PENDING once the winner commits. An expired one
 * is INTENT_EXPIRED: the database judges expiry by its own clock, as its trigger does.
 */
export async function consumeRetryIntent(
  tx: Tx,
  id: string,
  ctx: AuditContext,
): Promise<RetryIntent> {
  const [intent] = await tx
    .update(retryIntents)
    .set({ status: "CONSUMED", consumedBy: ctx.actor, consumedAt: sql`now()` })
    .where(
      and(
        eq(retryIntents.id, id),
        eq(retryIntents.status, "PENDING"),
        sql`${retryIntents.expiresAt} > statement_timestamp()`,
      ),
    )
    .returning();
  if (!intent) throw await notPending(tx, id);
  await recordAudit(tx, ctx, [
    {
      type: "RETRY_INTENT_CONSUMED",
      subjectType: "retry_intent",
      subjectId: intent.id,
      data: { sourceJobId: intent.sourceJobId },
    },
  ]);
  return intent;
}

/**
 * Declines a PENDING intent, with the admin's reason; RETRY_INTENT_REJECTED commits with it,
 * in the caller's transaction when one is given.
 */
export async function rejectRetryIntent(
  db: Executor,
  ctx: AuditContext,
  id: string,
  rejectionText: string,
): Promise<RetryIntent> {
  const text = normaliseReasonText(rejectionText);
  return inTransaction(db, async (tx) => {
    const [intent] = await tx
      .update(retryIntents)
      .set({
        status: "REJECTED",
        rejectedBy: ctx.actor,
        rejectedAt: sql`now()`,
        rejectionText: text,
      })
      .where(and(eq(retryIntents.id, id), eq(retryIntents.status, "PENDING")))
      .returning();
    if (!intent) throw await notPending(tx, id);
    await recordAudit(tx, ctx, [
      {
        type: "RETRY_INTENT_REJECTED",
        subjectType: "retry_intent",
        subjectId: intent.id,
        data: { sourceJobId: intent.sourceJobId, reasonText: text },
      },
    ]);
    return intent;
  });
}

/** Every intent for one job, oldest first. */
export async function listRetryIntentsForJob(db: Executor, jobId: string): Promise<RetryIntent[]> {
  return db
    .select()
    .from(retryIntents)
    .where(eq(retryIntents.sourceJobId, jobId))
    .orderBy(retryIntents.createdAt, retryIntents.id);
}

export interface RetryIntentQuery {
  jobId?: string | undefined;
  status?: RetryIntentStatus | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listRetryIntents(
  db: Executor,
  query: RetryIntentQuery,
): Promise<Page<RetryIntent>> {
  const conditions: SQL[] = [];
  if (query.jobId) conditions.push(eq(retryIntents.sourceJobId, query.jobId));
  if (query.status) conditions.push(eq(retryIntents.status, query.status));
  const after = await newestFirstAfter(db, retryIntents, query.cursor);
  if (after) conditions.push(after);
  const rows = await db
    .select()
    .from(retryIntents)
    .where(and(...conditions))
    .orderBy(desc(retryIntents.createdAt), desc(retryIntents.id))
    .limit(query.limit + 1);
  return pageOf(rows, query.limit);
}

/**
 * Rejects, as `system` with the text `expired`, up to `limit` PENDING intents whose time ran
 * out, each with its RETRY_INTENT_EXPIRED event, in one statement. The worker's sweep runs it;
 * SKIP LOCKED leaves an intent being executed right now to its executor, who will find it
 * expired. Returns how many it rejected.
 */
export async function expireRetryIntents(db: Executor, limit = 1000): Promise<number> {
  const result = await db.execute(sql`
    WITH expired AS (
      UPDATE retry_intents i
      SET status = 'REJECTED', rejected_by = 'system', rejected_at = now(), rejection_text = 'expired'
      WHERE i.id IN (
        SELECT id FROM retry_intents
        WHERE status = 'PENDING' AND expires_at <= statement_timestamp()
        ORDER BY expires_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING i.id, i.source_job_id, i.batch_id, i.expires_at
    ), audit AS (
      INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
      SELECT 'RETRY_INTENT_EXPIRED', 'system', 'retry_intent', id,
             jsonb_strip_nulls(jsonb_build_object(
               'sourceJobId', source_job_id, 'batchId', batch_id, 'expiresAt', expires_at))
      FROM expired
    )
    SELECT count(*)::int AS n FROM expired`);
  const [row] = rowsOf<{ n: number | string }>(result);
  return Number(row?.n ?? 0);
}
