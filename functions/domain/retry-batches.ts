/**
 * Retry batches: one governed decision for many failed jobs, frozen at the moment of approval.
 * An admin previews a filter (which FAILED jobs it matches and which it leaves out), approves
 * exactly that set (the preview's token is a digest of it), and later executes or rejects all
 * of its intents at once. Each intent is still consumed at most once and yields one job.
 */
import { and, count, desc, eq, type SQL, sql } from "drizzle-orm";
import {
  type RetryBatch,
  type RetryIntent,
  type RetryReasonCode,
  retryBatches,
  retryIntents,
} from "../../db/schema";
import { type Executor, rowsOf, type Tx } from "../../db/types";
import { type AuditContext, recordAudit } from "./audit";
import { sha256Hex } from "./canonical-json";
import { DomainError } from "./errors";
import { newId } from "./ids";
import { GENERATOR_NAME } from "./jobs";
import { decodeCursor, invalidCursor, type Page, pageOf } from "./pagination";
import { expiresIn, intentTtlHours, normaliseReasonText, REASON_CODES } from "./retry-intents";
import { budgetOf, DEFAULT_RETRY_BATCH_MAX, type RetryPolicy } from "./retry-policy";
import { inTransaction } from "./unit-of-work";

/** Which FAILED jobs a batch is about. Every field narrows; none means all failed jobs. */
export interface BatchFilter {
  generator?: string | undefined;
  errorCode?: string | undefined;
  /** ISO-8601; on or after, by `finished_at`. */
  failedAfter?: string | undefined;
  /** ISO-8601; before, by `finished_at`. */
  failedBefore?: string | undefined;
}

export interface BatchPreview {
  count: number;
  /** The jobs a batch approved now would hold, sorted. */
  jobIds: string[];
  /** A digest of exactly `jobIds`: approval is refused if the set has changed since. */
  previewToken: string;
  /** Failed, not yet retried jobs the filter matches but a batch leaves out, and why. */
  excluded: { overBudget: number; pendingIntent: number };
}

const YEAR_ONE = Date.parse("0001-01-01T00:00:00Z");
const ERROR_CODE = /^[A-Za-z0-9_.:-]{1,100}$/;

/** The filter with its timestamps checked and normalised; refused with the field at fault. */
export function normaliseFilter(filter: BatchFilter): BatchFilter {
  const invalid = (field: string, message: string) =>
    new DomainError("VALIDATION_FAILED", `filter.${field} ${message}`, {
      field: `filter.${field}`,
    });
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
  for (const field of ["failedAfter", "failedBefore"] as const) {
    const value = filter[field];
    if (value === undefined) continue;
    // A zone is required: without one, the same request would select other jobs on a server
    // in another time zone.
    const time = /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/i.test(value)
      ? Date.parse(value)
      : Number.NaN;
    // PostgreSQL's timestamps start at year 1; JavaScript's dates also reach year 0 and below.
    if (Number.isNaN(time) || time < YEAR_ONE) {
      throw invalid(field, "must be an ISO-8601 timestamp with a zone, e.g. 2026-11-29T10:00:00Z");
    }
    out[field] = new Date(time).toISOString();
  }
  if (out.failedAfter && out.failedBefore && out.failedAfter >= out.failedBefore) {
    throw invalid("failedBefore", "must be later than failedAfter");
  }
  return out;
}

interface Candidate {
  id: string;
  depth: number;
  pending: boolean;
}

/**
 * FAILED, not yet retried jobs the filter matches, with each one's retry depth and whether an
 * intent is already pending for it. With `lock`, the matching rows are locked (NO KEY UPDATE,
 * in id order, as single intents lock their job) and the budget is set for the triggers.
 */
async function candidates(
  db: Executor,
  filter: BatchFilter,
  options: { lock?: { budget: number } } = {},
): Promise<Candidate[]> {
  const conditions: SQL[] = [sql`j.status = 'FAILED'`];
  if (filter.generator) conditions.push(sql`j.generator = ${filter.generator}`);
  if (filter.errorCode) conditions.push(sql`j.error->>'code' = ${filter.errorCode}`);
  if (filter.failedAfter) conditions.push(sql`j.finished_at >= ${filter.failedAfter}::timestamptz`);
  if (filter.failedBefore)
    conditions.push(sql`j.finished_at < ${filter.failedBefore}::timestamptz`);
  conditions.push(
    sql`NOT EXISTS (SELECT 1 FROM regeneration_jobs r WHERE r.retry_of_job_id = j.id)`,
  );
  const lock = options.lock;
  const result = await db.execute(sql`
    SELECT j.id,
           -- Most failed jobs are originals; only a retry needs its chain walked (50,000
           -- candidates: 1.3 s with the walk for every one, 0.3 s like this).
           CASE WHEN j.retry_of_job_id IS NULL THEN 0 ELSE regent_retry_depth(j.id) END AS depth,
           EXISTS (SELECT 1 FROM retry_intents i WHERE i.source_job_id = j.id AND i.status = 'PENDING') AS pending
           ${lock ? sql`, set_config('regent.retry_budget', ${String(lock.budget)}, true) AS budget` : sql``}
    FROM regeneration_jobs j
    WHERE ${sql.join(conditions, sql` AND `)}
    ORDER BY j.id
    ${lock ? sql`FOR NO KEY UPDATE OF j` : sql``}`);
  return rowsOf<{ id: string; depth: number | string; pending: boolean }>(result).map((r) => ({
    id: r.id,
    depth: Number(r.depth),
    pending: r.pending === true || (r.pending as unknown) === "t",
  }));
}

function split(rows: Candidate[], budget: number) {
  const jobIds: string[] = [];
  let overBudget = 0;
  let pendingIntent = 0;
  for (const row of rows) {
    if (row.pending) pendingIntent += 1;
    else if (row.depth >= budget) overBudget += 1;
    else jobIds.push(row.id);
  }
  return { jobIds, excluded: { overBudget, pendingIntent } };
}

const previewTokenOf = (jobIds: readonly string[]) => sha256Hex(jobIds.join("\n"));

function tooLarge(count: number, max: number): DomainError {
  return new DomainError(
    "BATCH_TOO_LARGE",
    `the filter matches ${count} jobs; a batch holds at most ${max}: narrow the filter (generator, error code, failure window)`,
    { count, max },
  );
}

/**
 * What a batch approved now would hold. Reads only. Refused with BATCH_TOO_LARGE when the
 * set is over RETRY_BATCH_MAX, so that a preview never promises what approval would refuse.
 */
export async function previewRetryBatch(
  db: Executor,
  filter: BatchFilter,
  policy: RetryPolicy = {},
): Promise<BatchPreview> {
  const normalised = normaliseFilter(filter);
  const { jobIds, excluded } = split(await candidates(db, normalised), budgetOf(policy));
  const max = policy.batchMax ?? DEFAULT_RETRY_BATCH_MAX;
  if (jobIds.length > max) throw tooLarge(jobIds.length, max);
  return { count: jobIds.length, jobIds, previewToken: await previewTokenOf(jobIds), excluded };
}

/** Intents (and their events) written per statement when a batch is approved. */
const INSERT_CHUNK = 1000;

export interface CreateRetryBatchInput {
  filter: BatchFilter;
  previewToken: string;
  reasonCode: RetryReasonCode;
  reasonText: string;
  expiresInHours?: number | undefined;
}

/**
 * Approves the previewed set as one batch: in one transaction (the caller's, when given) it
 * locks the jobs the filter matches, recomputes the set, and, if it is still the one the
 * preview's token names, writes the batch and one PENDING intent per job, all with the batch's
 * reason and approver, each with its event. A set that changed is BATCH_PREVIEW_STALE (with
 * the new count) and nothing is written; none is BATCH_EMPTY; too many is BATCH_TOO_LARGE.
 */
export async function createRetryBatch(
  db: Executor,
  ctx: AuditContext,
  request: CreateRetryBatchInput,
  policy: RetryPolicy = {},
): Promise<RetryBatch> {
  const filter = normaliseFilter(request.filter);
  const reasonText = normaliseReasonText(request.reasonText);
  if (!REASON_CODES.includes(request.reasonCode)) {
    throw new DomainError(
      "VALIDATION_FAILED",
      `reasonCode must be one of ${REASON_CODES.join(", ")}`,
      { field: "reasonCode" },
    );
  }
  const ttlHours = intentTtlHours(request.expiresInHours, policy);
  const budget = budgetOf(policy);
  const max = policy.batchMax ?? DEFAULT_RETRY_BATCH_MAX;
  return inTransaction(db, async (tx) => {
    // A lock that waited for a concurrent approval of these jobs returns them as its statement's
    // snapshot saw them, without that approval's intents; a second statement sees those, so the
    // set is read again once the rows are held (a job new to it cannot match the token).
    await candidates(tx, filter, { lock: { budget } });
    const { jobIds } = split(await candidates(tx, filter, { lock: { budget } }), budget);
    if (jobIds.length === 0) {
      throw new DomainError("BATCH_EMPTY", "the filter matches no job that can be retried", {
        count: 0,
      });
    }
    if (jobIds.length > max) throw tooLarge(jobIds.length, max);
    const token = await previewTokenOf(jobIds);
    if (token !== request.previewToken) {
      throw new DomainError(
        "BATCH_PREVIEW_STALE",
        `the jobs this filter matches changed since the preview (now ${jobIds.length}): preview again and approve what you see`,
        { count: jobIds.length, previewToken: token },
      );
    }
    const [batch] = await tx
      .insert(retryBatches)
      .values({
        id: newId(),
        filter: filter as Record<string, string>,
        reasonCode: request.reasonCode,
        reasonText,
        approvedBy: ctx.actor,
        jobCount: jobIds.length,
      })
      .returning();
    if (!batch) throw new Error("insert returned no batch");
    await recordAudit(tx, ctx, [
      {
        type: "RETRY_BATCH_CREATED",
        subjectType: "retry_batch",
        subjectId: batch.id,
        data: { filter, reasonCode: batch.reasonCode, reasonText, jobCount: batch.jobCount },
      },
    ]);
    // In slices: one statement carries at most 65,535 parameters, and each audit row takes 8.
    for (let start = 0; start < jobIds.length; start += INSERT_CHUNK) {
      const intents = await tx
        .insert(retryIntents)
        .values(
          jobIds.slice(start, start + INSERT_CHUNK).map((jobId) => ({
            id: newId(),
            sourceJobId: jobId,
            reasonCode: request.reasonCode,
            reasonText,
            approvedBy: ctx.actor,
            batchId: batch.id,
            expiresAt: expiresIn(ttlHours),
          })),
        )
        .returning({ id: retryIntents.id, sourceJobId: retryIntents.sourceJobId });
      await recordAudit(
        tx,
        ctx,
        intents.map((intent) => ({
          type: "RETRY_INTENT_CREATED" as const,
          subjectType: "retry_intent" as const,
          subjectId: intent.id,
          data: {
            sourceJobId: intent.sourceJobId,
            reasonCode: request.reasonCode,
            batchId: batch.id,
          },
        })),
      );
    }
    return batch;
  });
}

export interface BatchCounts {
  pending: number;
  consumed: number;
  rejected: number;
}

export interface BatchDetail {
  batch: RetryBatch;
  counts: BatchCounts;
  intents: (RetryIntent & { resultingJobId: string | null })[];
}

export async function findRetryBatch(db: Executor, id: string): Promise<RetryBatch | undefined> {
  const [batch] = await db.select().from(retryBatches).where(eq(retryBatches.id, id));
  return batch;
}

function batchNotFound(id: string): DomainError {
  return new DomainError("BATCH_NOT_FOUND", `no retry batch with id ${id}`, { batchId: id });
}

/** Intents per status of one batch. */
export async function countBatchIntents(db: Executor, batchId: string): Promise<BatchCounts> {
  const rows = await db
    .select({ status: retryIntents.status, n: count() })
    .from(retryIntents)
    .where(eq(retryIntents.batchId, batchId))
    .groupBy(retryIntents.status);
  const counts: BatchCounts = { pending: 0, consumed: 0, rejected: 0 };
  for (const row of rows) {
    counts[row.status.toLowerCase() as keyof BatchCounts] = Number(row.n);
  }
  return counts;
}

/** A batch with its counts and its intents (each with the job it created, if any). */
export async function retryBatchDetail(db: Executor, id: string): Promise<BatchDetail> {
  const batch = await findRetryBatch(db, id);
  if (!batch) throw batchNotFound(id);
  const [counts, result] = await Promise.all([
    countBatchIntents(db, id),
    db.execute(sql`
      SELECT i.id, j.id AS resulting_job_id
      FROM retry_intents i LEFT JOIN regeneration_jobs j ON j.retry_intent_id = i.id
      WHERE i.batch_id = ${id}`),
  ]);
  const resulting = new Map(
    rowsOf<{ id: string; resulting_job_id: string | null }>(result).map((r) => [
      r.id,
      r.resulting_job_id,
    ]),
  );
  const intents = await db
    .select()
    .from(retryIntents)
    .where(eq(retryIntents.batchId, id))
    .orderBy(retryIntents.sourceJobId);
  return {
    batch,
    counts,
    intents: intents.map((i) => ({ ...i, resultingJobId: resulting.get(i.id) ?? null })),
  };
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listRetryBatches(
  db: Executor,
  query: { limit: number; cursor?: string | undefined },
): Promise<Page<RetryBatch>> {
  const conditions: SQL[] = [];
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    if (!(await findRetryBatch(db, after))) throw invalidCursor();
    conditions.push(
      sql`(${retryBatches.createdAt}, ${retryBatches.id}) < (SELECT created_at, id FROM retry_batches WHERE id = ${after})`,
    );
  }
  const rows = await db
    .select()
    .from(retryBatches)
    .where(and(...conditions))
    .orderBy(desc(retryBatches.createdAt), desc(retryBatches.id))
    .limit(query.limit + 1);
  return pageOf(rows, query.limit);
}

/**
 * Executes and rejects of one batch run one after the other: each holds a transaction-level
 * advisory lock on the batch. (A row lock would need UPDATE on an insert-only table, which the
 * application role is rightly not granted.) The statements after it see what the one before
 * committed.
 */
async function lockBatch(tx: Tx, id: string): Promise<RetryBatch> {
  const [row] = await tx
    .select({
      batch: retryBatches,
      locked: sql`pg_advisory_xact_lock(hashtextextended(${`regent.retry_batch:${id}`}, 0))`,
    })
    .from(retryBatches)
    .where(eq(retryBatches.id, id));
  if (!row) throw batchNotFound(id);
  return row.batch;
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
 * Intents consumed per pair of statements. 500 keeps each statement's JSON parameter and
 * trigger work small while a 1,000-job batch still takes only four statements.
 */
const EXECUTE_CHUNK = 500;

/**
 * Executes every PENDING, unexpired intent of a batch, as a single intent is executed: each is
 * consumed once and yields one new job linked to its failed job, with the same four audit
 * events. One transaction (the caller's, when given) holding the batch's lock, so a second or
 * concurrent call waits and then finds nothing left: it creates no job and reports every
 * intent skipped. Intents rejected, expired or executed one by one meanwhile are skipped too.
 */
export async function executeRetryBatch(
  db: Executor,
  ctx: AuditContext,
  id: string,
  policy: RetryPolicy = {},
): Promise<BatchExecution> {
  return inTransaction(db, async (tx) => {
    const batch = await lockBatch(tx, id);
    if (policy.requireDistinctExecutor && batch.approvedBy === ctx.actor) {
      throw new DomainError(
        "FOUR_EYES_REQUIRED",
        "the admin who approved this batch cannot also execute it",
        { batchId: id, approvedBy: batch.approvedBy },
      );
    }
    let created = 0;
    for (;;) {
      const consumed = rowsOf<{ id: string; source_job_id: string }>(
        await tx.execute(sql`
          WITH picked AS (
            SELECT id FROM retry_intents
            WHERE batch_id = ${id} AND status = 'PENDING' AND expires_at > statement_timestamp()
            ORDER BY id
            LIMIT ${EXECUTE_CHUNK}
            FOR UPDATE
          ), consumed AS (
            UPDATE retry_intents i SET status = 'CONSUMED', consumed_by = ${ctx.actor}, consumed_at = now()
            FROM picked WHERE i.id = picked.id
            RETURNING i.id, i.source_job_id
          ), audit AS (
            INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
            SELECT 'RETRY_INTENT_CONSUMED', ${ctx.actor}, 'retry_intent', id,
                   jsonb_build_object('sourceJobId', source_job_id, 'batchId', ${id}::text),
                   ${ctx.requestId ?? null}, ${ctx.ip ?? null}, ${ctx.userAgent ?? null}
            FROM consumed
          )
          SELECT id, source_job_id FROM consumed`),
      );
      if (consumed.length === 0) break;
      // The new jobs are a second statement: the job's insert trigger must see its intent
      // CONSUMED, which a sibling in the same statement would not show it.
      const pairs = consumed.map((c) => ({ intent_id: c.id, job_id: newId() }));
      await tx.execute(sql`
        WITH pairs AS (
          SELECT * FROM jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) AS p(intent_id text, job_id text)
        ), jobs AS (
          INSERT INTO regeneration_jobs (id, generator, input, retry_of_job_id, retry_intent_id, created_by)
          SELECT p.job_id, src.generator, src.input, src.id, i.id, ${ctx.actor}
          FROM pairs p
          JOIN retry_intents i ON i.id = p.intent_id
          JOIN regeneration_jobs src ON src.id = i.source_job_id
          RETURNING id, generator, retry_of_job_id, retry_intent_id
        ), audit AS (
          INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
          SELECT e.type, ${ctx.actor}, e.subject_type, e.subject_id, e.data,
                 ${ctx.requestId ?? null}, ${ctx.ip ?? null}, ${ctx.userAgent ?? null}
          FROM jobs
          JOIN retry_intents i ON i.id = jobs.retry_intent_id
          CROSS JOIN LATERAL (VALUES
            ('RETRY_INTENT_EXECUTED', 'retry_intent', i.id,
             jsonb_build_object('sourceJobId', jobs.retry_of_job_id, 'jobId', jobs.id, 'batchId', ${id}::text)),
            ('JOB_CREATED', 'job', jobs.id,
             jsonb_build_object('generator', jobs.generator, 'retryOfJobId', jobs.retry_of_job_id,
                                'retryIntentId', i.id)),
            ('REGEN_JOB_RETRIED', 'job', jobs.retry_of_job_id,
             jsonb_build_object('retryJobId', jobs.id, 'retryIntentId', i.id,
                                'reasonCode', i.reason_code, 'approvedBy', i.approved_by))
          ) AS e(type, subject_type, subject_id, data)
        )
        SELECT count(*) FROM jobs`);
      created += consumed.length;
    }
    const counts = await countBatchIntents(tx, id);
    const [expired] = rowsOf<{ n: number | string }>(
      await tx.execute(sql`
        SELECT count(*) AS n FROM retry_intents
        WHERE batch_id = ${id} AND status = 'PENDING' AND expires_at <= statement_timestamp()`),
    );
    const skipped = {
      consumed: counts.consumed - created,
      rejected: counts.rejected,
      expired: Number(expired?.n ?? 0),
    };
    await recordAudit(tx, ctx, [
      {
        type: "RETRY_BATCH_EXECUTED",
        subjectType: "retry_batch",
        subjectId: id,
        data: { created, skipped },
      },
    ]);
    return { batch, created, skipped, counts };
  });
}

/**
 * Rejects every PENDING intent of a batch with the admin's reason, each with its
 * RETRY_INTENT_REJECTED event, and records RETRY_BATCH_REJECTED; intents already decided stay
 * as they are. Returns how many it rejected.
 */
export async function rejectRetryBatch(
  db: Executor,
  ctx: AuditContext,
  id: string,
  rejectionText: string,
): Promise<{ batch: RetryBatch; rejected: number; counts: BatchCounts }> {
  const text = normaliseReasonText(rejectionText);
  return inTransaction(db, async (tx) => {
    const batch = await lockBatch(tx, id);
    const [row] = rowsOf<{ n: number | string }>(
      await tx.execute(sql`
        WITH rejected AS (
          UPDATE retry_intents
          SET status = 'REJECTED', rejected_by = ${ctx.actor}, rejected_at = now(), rejection_text = ${text}
          WHERE batch_id = ${id} AND status = 'PENDING'
          RETURNING id, source_job_id
        ), audit AS (
          INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
          SELECT 'RETRY_INTENT_REJECTED', ${ctx.actor}, 'retry_intent', id,
                 jsonb_build_object('sourceJobId', source_job_id, 'reasonText', ${text}::text, 'batchId', ${id}::text),
                 ${ctx.requestId ?? null}, ${ctx.ip ?? null}, ${ctx.userAgent ?? null}
          FROM rejected
        )
        SELECT count(*) AS n FROM rejected`),
    );
    const rejected = Number(row?.n ?? 0);
    await recordAudit(tx, ctx, [
      {
        type: "RETRY_BATCH_REJECTED",
        subjectType: "retry_batch",
        subjectId: id,
        data: { reasonText: text, rejected },
      },
    ]);
    return { batch, rejected, counts: await countBatchIntents(tx, id) };
  });
}
