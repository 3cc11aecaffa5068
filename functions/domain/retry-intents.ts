import { eq, type SQL, sql } from "drizzle-orm";
import { REASON_TEXT_MAX } from "../../db/policy";
import {
  type RetryIntent,
  type RetryIntentKind,
  type RetryIntentStatus,
  type RetryReasonCode,
  retryIntentKind,
  retryIntents,
  retryReasonCode,
} from "../../db/schema";
import { type Executor, rowsOf } from "../../db/types";
import type { AuditContext } from "./audit";
import { DomainError } from "./errors";
import { type InputSchemas, processInputSchemas, withCheckedInput } from "./generators";
import { rowFromJson } from "./json-rows";
import { newestFirstPage, type Page } from "./pagination";
import { refusal } from "./refusals";
import { createdOf, type IdempotencyKeyUse, type Once, runOnce, runUnit } from "./units";

export const REASON_CODES = retryReasonCode.enumValues;
export const INTENT_KINDS = retryIntentKind.enumValues;
/**
 * The reason codes that say something in the job was wrong: only they may correct the input or
 * supersede a result. A transient failure or the infrastructure blames nothing in the job.
 */
export const CHANGING_REASONS: readonly RetryReasonCode[] = [
  "BAD_INPUT",
  "IMPROVED_PROMPT",
  "OTHER",
];
export { REASON_TEXT_MAX };
export const OUTPUT_REF_MAX = 500;

export interface CreateRetryIntentInput {
  sourceJobId: string;
  /** RETRY (the default) a FAILED job, or SUPERSEDE a COMPLETED one. */
  kind?: RetryIntentKind | undefined;
  /**
   * The corrected input the new job runs with, instead of the source's: only with BAD_INPUT,
   * IMPROVED_PROMPT or OTHER, and it must match the current input schema of the source's
   * generator.
   */
  input?: unknown;
  reasonCode: RetryReasonCode;
  reasonText: string;
  sourceOutputRef?: string | null | undefined;
  /** Approve past the chain's retry budget; needs reason code OTHER. */
  overrideBudget?: boolean | undefined;
  /**
   * Lifetime of this approval in whole hours; the database's policy gives the default
   * (INTENT_TTL_HOURS) and the bounds, and refuses a lifetime outside them.
   */
  expiresInHours?: number | undefined;
}

/**
 * Trims a human reason and checks it is 1..REASON_TEXT_MAX characters, counted as the API's
 * schema and the database's CHECK count them: in code points (an emoji is one, not two).
 */
export function normaliseReasonText(text: string, field = "reasonText"): string {
  const trimmed = text.trim();
  const length = [...trimmed].length;
  if (length === 0 || length > REASON_TEXT_MAX) {
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
 * (INTENT_ALREADY_PENDING), was already retried (JOB_ALREADY_RETRIED) or its chain used its
 * retry budget (RETRY_BUDGET_EXHAUSTED, unless overridden), or the lifetime asked for is outside
 * the policy's (VALIDATION_FAILED). One statement, the database's
 * `regent_create_retry_intent`, which applies the database's policy: it locks the failed job's
 * row first (NO KEY UPDATE), as
 * executing an intent does, so that for one job the two run one after the other; the intent
 * and its RETRY_INTENT_CREATED event commit together, with the Idempotency-Key if one is given.
 */
export async function createRetryIntentOnce(
  db: Executor,
  ctx: AuditContext,
  request: CreateRetryIntentInput,
  key?: IdempotencyKeyUse,
  schemas: InputSchemas = processInputSchemas,
): Promise<Once<RetryIntent>> {
  const reasonText = normaliseReasonText(request.reasonText);
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
  const fields = {
    sourceJobId: request.sourceJobId,
    kind: request.kind ?? "RETRY",
    sourceOutputRef,
    reasonCode: request.reasonCode,
    reasonText,
    overrideBudget: request.overrideBudget === true,
    expiresInHours: request.expiresInHours ?? null,
  };
  const create = (executor: Executor, more: Record<string, unknown> = {}) =>
    runOnce(executor, "create_retry_intent", ctx, { ...fields, ...more }, key, (body) =>
      rowFromJson(retryIntents, body.intent as Record<string, unknown>),
    );
  if (request.input === undefined || request.input === null) return create(db);
  if (!CHANGING_REASONS.includes(request.reasonCode)) {
    throw refusal("VALIDATION_FAILED", { field: "input", reasonCode: request.reasonCode });
  }
  // Checked against the schema of the source's generator, which the database names.
  return withCheckedInput(db, schemas, request.input, undefined, (executor, checkedAgainst) =>
    create(executor, { input: request.input, checkedAgainst }),
  );
}

/** Records an admin's approval to retry a FAILED job: see createRetryIntentOnce. */
export async function createRetryIntent(
  db: Executor,
  ctx: AuditContext,
  request: CreateRetryIntentInput,
): Promise<RetryIntent> {
  return createdOf(await createRetryIntentOnce(db, ctx, request));
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

export function intentExpired(intent: RetryIntent): DomainError {
  return refusal("INTENT_EXPIRED", {
    intentId: intent.id,
    expiresAt: intent.expiresAt.toISOString(),
  });
}

/**
 * Declines a PENDING intent, with the admin's reason; RETRY_INTENT_REJECTED commits with it,
 * in one statement (the database's `regent_reject_retry_intent`). Refused INTENT_NOT_FOUND, or
 * INTENT_NOT_PENDING (naming the job a consumed one created).
 */
export async function rejectRetryIntent(
  db: Executor,
  ctx: AuditContext,
  id: string,
  rejectionText: string,
): Promise<RetryIntent> {
  const text = normaliseReasonText(rejectionText);
  const body = await runUnit<{ intent: Record<string, unknown> }>(
    db,
    "regent_reject_retry_intent",
    ctx,
    { intentId: id, reasonText: text },
  );
  return rowFromJson(retryIntents, body.intent);
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
  const { items, nextCursor } = await newestFirstPage<RetryIntent>(db, retryIntents, {
    where: intentConditions(query),
    limit: query.limit,
    cursor: query.cursor,
  });
  return { items, nextCursor };
}

/** The filters of an intent list as conditions on retry_intents. */
export function intentConditions(query: Omit<RetryIntentQuery, "limit" | "cursor">): SQL[] {
  const conditions: SQL[] = [];
  if (query.jobId) conditions.push(eq(retryIntents.sourceJobId, query.jobId));
  if (query.status) conditions.push(eq(retryIntents.status, query.status));
  return conditions;
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
