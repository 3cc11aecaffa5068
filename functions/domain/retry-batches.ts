/**
 * Retry batches: one governed decision for many failed jobs, frozen at the moment of approval.
 * An admin previews a filter (which FAILED jobs it matches, with their failures, and which it
 * leaves out), approves exactly that set or the jobs chosen from it (the preview's token names
 * the set), and later executes or rejects all of its intents at once, then follows the jobs
 * they created. Each intent is still consumed at most once and yields one job.
 */
import { type SQL, sql } from "drizzle-orm";
import { GENERATOR_NAME, GENERATOR_VERSION } from "../../db/catalog";
import {
  type AuditEvent,
  auditEvents,
  type JobStatus,
  type RetryBatch,
  type RetryIntent,
  type RetryIntentKind,
  type RetryReasonCode,
  retryBatches,
  retryIntents,
} from "../../db/schema";
import { type Executor, rowsOf } from "../../db/types";
import { type AuditContext, auditTrailJson } from "./audit";
import { DomainError, type ErrorCode } from "./errors";
import { parseInstant } from "./instants";
import { rowFromJson, rowsFromJson } from "./json-rows";
import { newestFirstPage, type Page } from "./pagination";
import { refusal } from "./refusals";
import { normaliseReasonText, REASON_CODES } from "./retry-intents";
import { createdOf, type IdempotencyKeyUse, type Once, runOnce, runUnit } from "./units";

/**
 * Which jobs a batch is about: FAILED ones to retry (`generator`, `errorCode`, `failedAfter`,
 * `failedBefore`) or, for a batch of kind SUPERSEDE, COMPLETED ones (`generator`,
 * `generatorVersion`: the version its output names, `completedAfter`, `completedBefore`).
 * Every field narrows; none means all of them.
 */
export interface BatchFilter {
  generator?: string | undefined;
  errorCode?: string | undefined;
  /** ISO-8601; on or after, by `finished_at`. */
  failedAfter?: string | undefined;
  /** ISO-8601; before, by `finished_at`. */
  failedBefore?: string | undefined;
  generatorVersion?: string | undefined;
  completedAfter?: string | undefined;
  completedBefore?: string | undefined;
}

/** The fields of a filter each kind of batch reads; the others are refused. */
const FILTER_FIELDS: Record<RetryIntentKind, readonly (keyof BatchFilter)[]> = {
  RETRY: ["generator", "errorCode", "failedAfter", "failedBefore"],
  SUPERSEDE: ["generator", "generatorVersion", "completedAfter", "completedBefore"],
};

/**
 * A job of a preview, with what an admin decides by: its failure (a RETRY batch's), or when it
 * completed (a SUPERSEDE batch's; the failure's fields are then null).
 */
export interface PreviewJob {
  id: string;
  errorCode: string | null;
  errorMessage: string | null;
  /** ISO-8601, milliseconds, UTC. */
  failedAt: string | null;
  completedAt: string | null;
}

export interface BatchPreview {
  count: number;
  /** The jobs a batch approved now would hold, sorted. */
  jobIds: string[];
  /** The same jobs, in the same order, each with its failure. */
  jobs: PreviewJob[];
  /** How many of the jobs failed with each error code. */
  byErrorCode: Record<string, number>;
  /** Names exactly `jobIds`: approval is refused if the set has changed since. */
  previewToken: string;
  /**
   * Failed, not yet retried jobs the filter matches but a batch leaves out, and why: over the
   * retry budget, an intent pending, or a person rejected the newest intent (a decision).
   */
  excluded: { overBudget: number; pendingIntent: number; rejected: number };
}

/**
 * A stretch of failure time holding at most a batch's worth of the failures a filter matches
 * (`count`, before the preview leaves any out): what BATCH_TOO_LARGE offers instead of the
 * whole filter. `failedBefore` is null for the last window of a filter without an end.
 */
export interface FailureWindow {
  failedAfter: string;
  failedBefore: string | null;
  count: number;
}

/** The failure windows of a filter over RETRY_BATCH_MAX: the first 10 at most, and the rest. */
export interface FailureWindows {
  windows: FailureWindow[];
  /**
   * Where the failures the windows leave begin, and why they were left: MORE_WINDOWS (past the
   * 20th window) or SAME_INSTANT (more than a batch failed within one millisecond, which no
   * failure window splits); null when the windows cover every failure.
   */
  rest: { failedAfter: string; cause: "MORE_WINDOWS" | "SAME_INSTANT" } | null;
}

/** The windows a BATCH_TOO_LARGE refusal of a RETRY preview carries; undefined for any other. */
export function failureWindowsOf(error: DomainError | undefined): FailureWindows | undefined {
  if (error?.code !== "BATCH_TOO_LARGE" || !Array.isArray(error.details?.windows)) {
    return undefined;
  }
  const { windows, rest } = error.details as unknown as FailureWindows;
  return { windows, rest: rest ?? null };
}

const ERROR_CODE = /^[A-Za-z0-9_.:-]{1,100}$/;

/** The filter with its timestamps checked and normalised; refused with the field at fault. */
export function normaliseFilter(filter: BatchFilter, kind: RetryIntentKind = "RETRY"): BatchFilter {
  const invalid = (field: string, message: string) =>
    new DomainError("VALIDATION_FAILED", `filter.${field} ${message}`, {
      field: `filter.${field}`,
    });
  for (const [field, value] of Object.entries(filter)) {
    if (value !== undefined && !FILTER_FIELDS[kind].includes(field as keyof BatchFilter)) {
      throw invalid(
        field,
        `does not apply to a ${kind} batch: it filters ${kind === "RETRY" ? "FAILED" : "COMPLETED"} jobs by ${FILTER_FIELDS[kind].join(", ")}`,
      );
    }
  }
  const out: BatchFilter = {};
  if (filter.generator !== undefined) {
    if (!GENERATOR_NAME.test(filter.generator))
      throw invalid("generator", "is not a generator name");
    out.generator = filter.generator;
  }
  if (filter.errorCode !== undefined) {
    if (!ERROR_CODE.test(filter.errorCode)) throw invalid("errorCode", "is not an error code");
    out.errorCode = filter.errorCode;
  }
  if (filter.generatorVersion !== undefined) {
    if (!GENERATOR_VERSION.test(filter.generatorVersion))
      throw invalid("generatorVersion", "is not a generator version");
    out.generatorVersion = filter.generatorVersion;
  }
  for (const field of [
    "failedAfter",
    "failedBefore",
    "completedAfter",
    "completedBefore",
  ] as const) {
    const value = filter[field];
    if (value === undefined) continue;
    // The API's rule (functions/domain/instants.ts), so that the page never reads a filter the
    // API would refuse, nor a 30 February as 2 March.
    const instant = parseInstant(value);
    if (!instant) {
      throw invalid(
        field,
        "must be an RFC 3339 instant with seconds and an offset, years 0002 to 9998, on a day of the calendar, e.g. 2026-11-29T10:00:00Z",
      );
    }
    out[field] = instant;
  }
  if (out.failedAfter && out.failedBefore && out.failedAfter >= out.failedBefore) {
    throw invalid("failedBefore", "must be later than failedAfter");
  }
  if (out.completedAfter && out.completedBefore && out.completedAfter >= out.completedBefore) {
    throw invalid("completedBefore", "must be later than completedAfter");
  }
  return out;
}

/** A preview as the database answers it (`regent_preview_retry_batch`). */
export interface PreviewAnswer extends BatchPreview {
  /** The policy's largest batch. */
  max: number;
  /** BATCH_TOO_LARGE when the set is over it, else null. */
  refusal: { code: ErrorCode; details: Record<string, unknown> } | null;
}

/**
 * The statement part that previews a normalised filter (a jsonb value), for a read that shows
 * a preview beside its other reads; `previewFrom` turns its answer into the preview.
 */
export function previewJson(filter: BatchFilter, kind: RetryIntentKind = "RETRY"): SQL {
  return sql`regent_preview_retry_batch(${JSON.stringify(filter)}::jsonb, ${kind}::retry_intent_kind)`;
}

/** The preview the database answered, or its refusal (BATCH_TOO_LARGE) thrown. */
export function previewFrom(answer: PreviewAnswer): BatchPreview {
  if (answer.refusal) throw refusal(answer.refusal.code, answer.refusal.details);
  const { count, jobIds, jobs, byErrorCode, previewToken, excluded } = answer;
  return { count, jobIds, jobs, byErrorCode, previewToken, excluded };
}

/**
 * What a batch approved now would hold, as the database reads it (the candidates, the policy's
 * budget and maximum, the token: `regent_preview_retry_batch`, the same reading approval makes
 * under lock). Reads only. Refused with BATCH_TOO_LARGE when the set is over RETRY_BATCH_MAX,
 * so that a preview never promises what approval would refuse.
 */
export async function previewRetryBatch(
  db: Executor,
  filter: BatchFilter,
  kind: RetryIntentKind = "RETRY",
): Promise<BatchPreview> {
  const result = await db.execute(
    sql`SELECT ${previewJson(normaliseFilter(filter, kind), kind)} AS preview`,
  );
  const [row] = rowsOf<{ preview: PreviewAnswer }>(result);
  if (!row) throw new Error("the preview returned no row");
  return previewFrom(row.preview);
}

export interface CreateRetryBatchInput {
  /** RETRY (the default): FAILED jobs; SUPERSEDE: COMPLETED ones, with a reason that says what changed. */
  kind?: RetryIntentKind | undefined;
  filter: BatchFilter;
  previewToken: string;
  /**
   * The jobs to approve, chosen from the preview's `jobIds` (an admin leaving some out); the
   * whole previewed set when undefined.
   */
  jobIds?: string[] | undefined;
  reasonCode: RetryReasonCode;
  reasonText: string;
  expiresInHours?: number | undefined;
}

/**
 * Approves the previewed set as one batch, in one statement (the database's
 * `regent_create_retry_batch`, under the database's policy): it locks the jobs the filter matches (NO KEY UPDATE, in id
 * order, as single intents lock their job), reads the set again once they are held, and, if it
 * is still the one the preview's token names, writes the batch and one PENDING intent per job,
 * all with the batch's reason and approver, each with its event: set-based, two statements
 * inside the function whatever the size. With `jobIds`, only those jobs, each of which must be
 * in the set the token names. A set that changed, or a chosen job outside it, is
 * BATCH_PREVIEW_STALE (with the new count) and nothing is written; none is BATCH_EMPTY; too
 * many is BATCH_TOO_LARGE.
 */
export async function createRetryBatchOnce(
  db: Executor,
  ctx: AuditContext,
  request: CreateRetryBatchInput,
  key?: IdempotencyKeyUse,
): Promise<Once<RetryBatch>> {
  const kind = request.kind ?? "RETRY";
  const filter = normaliseFilter(request.filter, kind);
  const reasonText = normaliseReasonText(request.reasonText);
  if (!REASON_CODES.includes(request.reasonCode)) {
    throw new DomainError(
      "VALIDATION_FAILED",
      `reasonCode must be one of ${REASON_CODES.join(", ")}`,
      { field: "reasonCode" },
    );
  }
  return runOnce(
    db,
    "create_retry_batch",
    ctx,
    {
      kind,
      filter,
      previewToken: request.previewToken,
      jobIds: chosenJobs(request.jobIds),
      reasonCode: request.reasonCode,
      reasonText,
      expiresInHours: request.expiresInHours ?? null,
    },
    key,
    (body) => rowFromJson(retryBatches, body.batch as Record<string, unknown>),
  );
}

const JOB_ID = /^[a-z0-9]{1,64}$/;

/** A selection as the database reads it: each id once, in order; refused when none or malformed. */
function chosenJobs(jobIds: string[] | undefined): string[] | undefined {
  if (jobIds === undefined) return undefined;
  if (jobIds.length === 0) {
    throw new DomainError(
      "VALIDATION_FAILED",
      "choose at least one job of the preview: an empty selection approves nothing",
      { field: "jobIds" },
    );
  }
  const bad = jobIds.find((id) => !JOB_ID.test(id));
  if (bad !== undefined) {
    throw new DomainError("VALIDATION_FAILED", `jobIds holds ${bad.slice(0, 80)}, not a job id`, {
      field: "jobIds",
    });
  }
  return [...new Set(jobIds)].sort();
}

/** Approves the previewed set as one batch: see createRetryBatchOnce. */
export async function createRetryBatch(
  db: Executor,
  ctx: AuditContext,
  request: CreateRetryBatchInput,
): Promise<RetryBatch> {
  return createdOf(await createRetryBatchOnce(db, ctx, request));
}

export interface BatchCounts {
  pending: number;
  consumed: number;
  rejected: number;
}

/** The jobs a batch's executed intents created, by their status now. */
export interface BatchOutcomes {
  pending: number;
  running: number;
  completed: number;
  failed: number;
}

/** A batch's intent with the job executing it created, and that job's status; null until then. */
export type BatchIntent = RetryIntent & {
  resultingJobId: string | null;
  resultingJobStatus: JobStatus | null;
};

export interface BatchDetail {
  batch: RetryBatch;
  counts: BatchCounts;
  outcomes: BatchOutcomes;
  intents: BatchIntent[];
  /** Who the database's four-eyes rule keeps from executing it (regent_excluded_executor). */
  excludedExecutor: string | null;
}

/** A batch's intents by status, as one JSON object of lower-case status → count. */
export function batchCountsJson(batchId: SQL): SQL {
  return sql`(SELECT coalesce(jsonb_object_agg(lower(c.status::text), c.n), '{}'::jsonb)
    FROM (SELECT status, count(*)::int AS n FROM retry_intents WHERE batch_id = ${batchId} GROUP BY status) c)`;
}

export function batchCountsFrom(json: unknown): BatchCounts {
  return { pending: 0, consumed: 0, rejected: 0, ...((json ?? {}) as Record<string, number>) };
}

/** The jobs the intents created, by status. */
function outcomesOf(intents: BatchIntent[]): BatchOutcomes {
  const outcomes: BatchOutcomes = { pending: 0, running: 0, completed: 0, failed: 0 };
  for (const { resultingJobStatus: status } of intents) {
    if (status) outcomes[status.toLowerCase() as keyof BatchOutcomes] += 1;
  }
  return outcomes;
}

/** How many of the jobs a batch created have yet to finish: what its page refreshes for. */
export function unfinished(outcomes: BatchOutcomes): number {
  return outcomes.pending + outcomes.running;
}

/**
 * A batch with its intents by status, the jobs its intents created by status, and its intents
 * (each with the job it created and that job's status, if any, sorted by source job), in one
 * statement; with `audit`, its audit trail too. BATCH_NOT_FOUND when there is none.
 */
export async function retryBatchDetail(db: Executor, batchId: string): Promise<BatchDetail>;
export async function retryBatchDetail(
  db: Executor,
  batchId: string,
  options: { audit: true },
): Promise<BatchDetail & { audit: AuditEvent[] }>;
export async function retryBatchDetail(
  db: Executor,
  batchId: string,
  options: { audit?: boolean } = {},
): Promise<BatchDetail & { audit?: AuditEvent[] }> {
  const result = await db.execute(sql`
    SELECT to_jsonb(b) AS batch,
           ${batchCountsJson(sql`b.id`)} AS counts,
           (SELECT coalesce(jsonb_agg(to_jsonb(i) || jsonb_build_object('resulting_job_id', r.id,
                                                                        'resulting_job_status', r.status)
                                      ORDER BY i.source_job_id), '[]'::jsonb)
            FROM retry_intents i LEFT JOIN regeneration_jobs r ON r.retry_intent_id = i.id
            WHERE i.batch_id = b.id) AS intents,
           ${options.audit ? auditTrailJson(batchId) : sql`NULL::jsonb`} AS audit,
           regent_excluded_executor(b.approved_by) AS excluded_executor
    FROM retry_batches b WHERE b.id = ${batchId}`);
  const [row] = rowsOf<{
    batch: Record<string, unknown>;
    counts: unknown;
    intents: unknown;
    audit: unknown;
    excluded_executor: string | null;
  }>(result);
  if (!row) {
    throw refusal("BATCH_NOT_FOUND", { batchId });
  }
  const rows = (Array.isArray(row.intents) ? row.intents : []) as Record<string, unknown>[];
  const intents = rows.map((i) => ({
    ...rowFromJson(retryIntents, i),
    resultingJobId: (i.resulting_job_id as string | null | undefined) ?? null,
    resultingJobStatus: (i.resulting_job_status as JobStatus | null | undefined) ?? null,
  }));
  return {
    batch: rowFromJson(retryBatches, row.batch),
    counts: batchCountsFrom(row.counts),
    outcomes: outcomesOf(intents),
    intents,
    excludedExecutor: row.excluded_executor ?? null,
    ...(options.audit ? { audit: rowsFromJson(auditEvents, row.audit) } : {}),
  };
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listRetryBatches(
  db: Executor,
  query: { limit: number; cursor?: string | undefined },
): Promise<Page<RetryBatch>> {
  const { items, nextCursor } = await newestFirstPage<RetryBatch>(db, retryBatches, query);
  return { items, nextCursor };
}

export interface BatchExecution {
  batch: RetryBatch;
  /** Jobs this call created, one per intent it consumed. */
  created: number;
  /** Intents of the batch this call did not execute, by why. */
  skipped: { consumed: number; rejected: number; expired: number };
  counts: BatchCounts;
}

/**
 * Executes every PENDING, unexpired intent of a batch, as a single intent is executed: each is
 * consumed once and yields one new job linked to its failed job, with the same four audit
 * events, then RETRY_BATCH_EXECUTED. One statement (the database's
 * `regent_execute_retry_batch`) holding the batch's advisory lock, so a second or concurrent
 * call waits and then finds nothing left: it creates no job and reports every intent skipped.
 * Intents rejected, expired or executed one by one meanwhile are skipped too.
 */
export async function executeRetryBatch(
  db: Executor,
  ctx: AuditContext,
  id: string,
): Promise<BatchExecution> {
  const result = await runUnit<{
    batch: Record<string, unknown>;
    created: number;
    skipped: BatchExecution["skipped"];
    counts: BatchCounts;
  }>(db, "regent_execute_retry_batch", ctx, { batchId: id });
  return { ...result, batch: rowFromJson(retryBatches, result.batch) };
}

/**
 * Rejects every PENDING intent of a batch with the admin's reason, each with its
 * RETRY_INTENT_REJECTED event, and records RETRY_BATCH_REJECTED, in one statement (the
 * database's `regent_reject_retry_batch`, under the batch's lock); intents already decided stay
 * as they are. Returns how many it rejected.
 */
export async function rejectRetryBatch(
  db: Executor,
  ctx: AuditContext,
  id: string,
  rejectionText: string,
): Promise<{ batch: RetryBatch; rejected: number; counts: BatchCounts }> {
  const text = normaliseReasonText(rejectionText);
  const result = await runUnit<{
    batch: Record<string, unknown>;
    rejected: number;
    counts: BatchCounts;
  }>(db, "regent_reject_retry_batch", ctx, { batchId: id, reasonText: text });
  return { ...result, batch: rowFromJson(retryBatches, result.batch) };
}
