/**
 * Read compositions: a job, an intent or a batch with everything shown beside it, as the API's
 * detail routes and the admin page both present them, the admin page's lists with what each
 * shows beside its rows, and what every admin page reads with its session.
 * Each composition is one statement (a round trip is what a request pays for at the edge):
 * the record and what surrounds it come back as JSON columns of one row, turned back into the
 * rows a Drizzle select returns by `rowFromJson`. Nothing here writes.
 */
import { type SQL, sql } from "drizzle-orm";
import {
  type AuditEvent,
  auditEvents,
  type Job,
  type JobStatus,
  type Output,
  type RetryBatch,
  type RetryIntent,
  type RetryIntentKind,
  type RetryReasonCode,
  regenerationJobs,
  regenerationOutputs,
  retryBatches,
  retryIntents,
} from "../../db/schema";
import { type Executor, rowsOf } from "../../db/types";
import type { SurgeConfig } from "../config/signals";
import { auditTrailJson } from "./audit";
import { DomainError, type ErrorCode } from "./errors";
import { type JobQuery, jobConditions, type LineageEntry, openFailureConditions } from "./jobs";
import { rowFromJson, rowsFromJson } from "./json-rows";
import { newestFirstPage, type Page } from "./pagination";
import {
  type BatchCounts,
  type BatchFilter,
  batchCountsFrom,
  batchCountsJson,
  type PreviewAnswer,
  previewJson,
} from "./retry-batches";
import { intentConditions, type RetryIntentQuery } from "./retry-intents";
import { type Surge, type SurgeRow, surgeFrom, surgeQuery } from "./signals";

type JsonObject = Record<string, unknown>;

/**
 * The retry chain of a job, oldest first, as one JSON array of {step, job, intent}: its
 * ancestors through `retry_of_job_id` and its descendants (each job is retried at most once),
 * each with the intent that made it (null for the original).
 */
function lineageJson(jobId: string): SQL {
  return sql`(
    WITH RECURSIVE up(id, retry_of, step) AS (
      SELECT id, retry_of_job_id, 0 FROM regeneration_jobs WHERE id = ${jobId}
      UNION ALL
      SELECT j.id, j.retry_of_job_id, up.step - 1
      FROM regeneration_jobs j JOIN up ON j.id = up.retry_of
    ), down(id, step) AS (
      SELECT id, 0 FROM regeneration_jobs WHERE id = ${jobId}
      UNION ALL
      SELECT j.id, down.step + 1
      FROM regeneration_jobs j JOIN down ON j.retry_of_job_id = down.id
    ), steps AS (SELECT id, step FROM up UNION SELECT id, step FROM down)
    SELECT coalesce(jsonb_agg(jsonb_build_object('step', s.step, 'job', to_jsonb(l), 'intent', (
             SELECT jsonb_build_object('id', i.id, 'kind', i.kind, 'reasonCode', i.reason_code,
                      'reasonText', i.reason_text, 'approvedBy', i.approved_by,
                      'correctedInput', i.input IS NOT NULL, 'budgetOverride', i.budget_override)
             FROM retry_intents i WHERE i.id = l.retry_intent_id)) ORDER BY s.step), '[]'::jsonb)
    FROM steps s JOIN regeneration_jobs l ON l.id = s.id)`;
}

/** The intent that made a job of a chain, as its lineage tells it: what was decided, why, by whom. */
export interface StepIntent {
  id: string;
  kind: RetryIntentKind;
  reasonCode: RetryReasonCode;
  reasonText: string;
  approvedBy: string;
  /** Whether the job ran a corrected input rather than its source's. */
  correctedInput: boolean;
  budgetOverride: boolean;
}

/** A job of a chain with the intent that made it (undefined for the original). */
export interface LineageStep extends LineageEntry {
  intent: StepIntent | undefined;
}

function lineageFrom(json: unknown): LineageStep[] {
  const steps = (json ?? []) as { step: number; job: JsonObject; intent: StepIntent | null }[];
  const base = steps[0]?.step ?? 0;
  return steps.map((s) => ({
    job: rowFromJson(regenerationJobs, s.job),
    depth: s.step - base,
    intent: s.intent ?? undefined,
  }));
}

/** Every intent for one job, oldest first, as one JSON array (listRetryIntentsForJob's rows). */
function intentsOfJobJson(jobId: string): SQL {
  return sql`(SELECT coalesce(jsonb_agg(to_jsonb(i) ORDER BY i.created_at, i.id), '[]'::jsonb)
    FROM retry_intents i WHERE i.source_job_id = ${jobId})`;
}

/**
 * The generator version a job ran under (its output's, or the one its failure recorded; null
 * when nothing says) and the one a new job of its generator runs under now (null when the
 * catalog does not hold it): `regent_job_versions`.
 */
export interface GeneratorVersions {
  source: string | null;
  current: string | null;
}

function jobNotFound(id: string): DomainError {
  return new DomainError("JOB_NOT_FOUND", `no job with id ${id}`, { jobId: id });
}

/** The newest job of a chain: where its retries and supersessions have got to. */
export interface LatestJob {
  jobId: string;
  status: JobStatus;
}

/**
 * A job and its output (if it has one), with the newest job of its chain and who submitted the
 * chain's original, in one statement; JOB_NOT_FOUND when there is none.
 */
export async function jobWithOutput(
  db: Executor,
  jobId: string,
): Promise<{ job: Job; output: Output | undefined; latest: LatestJob; rootCreatedBy: string }> {
  const result = await db.execute(sql`
    SELECT to_jsonb(j) AS job,
           (SELECT to_jsonb(o) FROM regeneration_outputs o WHERE o.job_id = j.id) AS output,
           regent_chain_ends(j.id) AS chain
    FROM regeneration_jobs j WHERE j.id = ${jobId}`);
  const [row] = rowsOf<{
    job: JsonObject;
    output: JsonObject | null;
    chain: { latest: LatestJob; root: { createdBy: string } };
  }>(result);
  if (!row) throw jobNotFound(jobId);
  return {
    job: rowFromJson(regenerationJobs, row.job),
    output: row.output ? rowFromJson(regenerationOutputs, row.output) : undefined,
    latest: row.chain.latest,
    rootCreatedBy: row.chain.root.createdBy,
  };
}

export interface JobDetail {
  job: Job;
  output: Output | undefined;
  /** The whole retry chain, oldest first, each job with the intent that made it. */
  lineage: LineageStep[];
  /** The newest job of the chain (this one when it has no successor). */
  latest: LatestJob;
  /** The generator version the job ran under, and the one a new job of it runs under now. */
  versions: GeneratorVersions;
  intents: RetryIntent[];
  /** The database's policy: governed retries a chain gets without an override. */
  retryBudget: number;
  /**
   * Why an intent cannot be recorded for the job now, as the database would refuse it
   * (`regent_retry_refusal`: a retry for a FAILED job, a supersession for a COMPLETED one);
   * null when it can.
   */
  retryRefusal: { code: ErrorCode; details: Record<string, unknown> } | null;
}

/**
 * The output of the newest job of a job's chain when that is another job (null otherwise):
 * what the admin page sets beside a superseded output.
 */
function latestOutputJson(): SQL {
  return sql`(SELECT to_jsonb(o) FROM regeneration_outputs o
    WHERE o.job_id = (SELECT regent_chain_ends(j.id)->'latest'->>'jobId') AND o.job_id <> j.id)`;
}

/**
 * For a FAILED job: how many other FAILED jobs of its generator failed with its error code in
 * the hour before it did, and how many of those no job has retried yet (what a retry batch of
 * the window would take from). The window is in whole seconds, so that a batch filter and a
 * `datetime-local` input carry it unchanged: from an hour before the second of the failure to
 * the end of that second.
 */
export interface NearbyFailures {
  /** ISO-8601; on or after, as a batch filter's `failedAfter`. */
  failedAfter: string;
  /** ISO-8601; before, as a batch filter's `failedBefore`. */
  failedBefore: string;
  failed: number;
  notRetried: number;
}

/**
 * NearbyFailures of the job `j` as a JSON object, null unless it FAILED. The hour's failures of
 * every generator are read first, fenced off (MATERIALIZED), by failure time through the
 * partial index of FAILED jobs (`regeneration_jobs_failed_idx`), and each one's successor
 * through the unique index on `retry_of_job_id`: the count costs the hour's failures. Without
 * the fence, the plan may take the generator's index instead and walk all of its history.
 */
function nearbyFailuresJson(): SQL {
  return sql`CASE WHEN j.status = 'FAILED' THEN (
    WITH w AS (
      SELECT date_trunc('second', j.finished_at) - interval '1 hour' AS after,
             date_trunc('second', j.finished_at) + interval '1 second' AS before
    ), hour AS MATERIALIZED (
      SELECT o.id, o.generator, o.error->>'code' AS code
      FROM regeneration_jobs o, w
      WHERE o.status = 'FAILED' AND o.finished_at >= w.after AND o.finished_at < w.before
    )
    SELECT jsonb_build_object('failedAfter', regent_iso(w.after), 'failedBefore', regent_iso(w.before),
             'failed', count(h.id),
             'notRetried', count(h.id) FILTER (WHERE NOT EXISTS (
               SELECT 1 FROM regeneration_jobs r WHERE r.retry_of_job_id = h.id)))
    FROM w LEFT JOIN hour h
      ON h.generator = j.generator AND h.code = j.error->>'code' AND h.id <> j.id
    GROUP BY w.after, w.before) END`;
}

/**
 * A job with its output, its retry chain and its intents, in one statement; with `audit`, its
 * audit trail too, with `latestOutput` the output of the newest job of its chain when that is
 * another job (the admin page shows both), and with `nearbyFailures` the failures like it in
 * the hour before it failed. JOB_NOT_FOUND when there is none.
 */
export async function jobDetail(db: Executor, jobId: string): Promise<JobDetail>;
export async function jobDetail(
  db: Executor,
  jobId: string,
  options: { audit: true; latestOutput?: boolean; nearbyFailures?: boolean },
): Promise<
  JobDetail & {
    audit: AuditEvent[];
    latestOutput?: Output | undefined;
    nearbyFailures?: NearbyFailures | undefined;
  }
>;
export async function jobDetail(
  db: Executor,
  jobId: string,
  options: { audit?: boolean; latestOutput?: boolean; nearbyFailures?: boolean } = {},
): Promise<
  JobDetail & {
    audit?: AuditEvent[];
    latestOutput?: Output | undefined;
    nearbyFailures?: NearbyFailures | undefined;
  }
> {
  const result = await db.execute(sql`
    SELECT to_jsonb(j) AS job,
           (SELECT to_jsonb(o) FROM regeneration_outputs o WHERE o.job_id = j.id) AS output,
           ${lineageJson(jobId)} AS lineage,
           ${intentsOfJobJson(jobId)} AS intents,
           ${options.audit ? auditTrailJson(jobId) : sql`NULL::jsonb`} AS audit,
           ${options.latestOutput ? latestOutputJson() : sql`NULL::jsonb`} AS latest_output,
           ${options.nearbyFailures ? nearbyFailuresJson() : sql`NULL::jsonb`} AS nearby_failures,
           (SELECT retry_budget FROM regent_policy WHERE singleton) AS retry_budget,
           regent_retry_refusal(j.id, CASE WHEN j.status = 'COMPLETED' THEN 'SUPERSEDE'
                                          ELSE 'RETRY' END::retry_intent_kind) AS retry_refusal,
           regent_job_versions(j.id) AS versions
    FROM regeneration_jobs j WHERE j.id = ${jobId}`);
  const [row] = rowsOf<{
    job: JsonObject;
    output: JsonObject | null;
    lineage: unknown;
    intents: unknown;
    audit: unknown;
    retry_budget: number;
    retry_refusal: JobDetail["retryRefusal"];
    versions: GeneratorVersions;
    latest_output: JsonObject | null;
    nearby_failures: NearbyFailures | null;
  }>(result);
  if (!row) throw jobNotFound(jobId);
  const lineage = lineageFrom(row.lineage);
  const newest = lineage.at(-1)?.job;
  return {
    job: rowFromJson(regenerationJobs, row.job),
    output: row.output ? rowFromJson(regenerationOutputs, row.output) : undefined,
    lineage,
    latest: newest
      ? { jobId: newest.id, status: newest.status }
      : { jobId, status: rowFromJson(regenerationJobs, row.job).status },
    versions: row.versions,
    intents: rowsFromJson(retryIntents, row.intents),
    retryBudget: Number(row.retry_budget),
    retryRefusal: row.retry_refusal ?? null,
    ...(options.audit ? { audit: rowsFromJson(auditEvents, row.audit) } : {}),
    ...(options.latestOutput && row.latest_output
      ? { latestOutput: rowFromJson(regenerationOutputs, row.latest_output) }
      : {}),
    ...(row.nearby_failures ? { nearbyFailures: row.nearby_failures } : {}),
  };
}

/**
 * A job, its intents oldest first, and for each consumed one the job it created: the job's
 * intents page, in one statement. JOB_NOT_FOUND when there is none.
 */
export async function jobIntents(
  db: Executor,
  jobId: string,
): Promise<{ job: Job; intents: RetryIntent[]; createdJobs: Map<string, string> }> {
  const result = await db.execute(sql`
    SELECT to_jsonb(j) AS job, ${intentsOfJobJson(jobId)} AS intents,
           (SELECT coalesce(jsonb_object_agg(r.retry_intent_id, r.id), '{}'::jsonb)
            FROM retry_intents i JOIN regeneration_jobs r ON r.retry_intent_id = i.id
            WHERE i.source_job_id = j.id AND i.status = 'CONSUMED') AS created
    FROM regeneration_jobs j WHERE j.id = ${jobId}`);
  const [row] = rowsOf<{ job: JsonObject; intents: unknown; created: Record<string, string> }>(
    result,
  );
  if (!row) throw jobNotFound(jobId);
  return {
    job: rowFromJson(regenerationJobs, row.job),
    intents: rowsFromJson(retryIntents, row.intents),
    createdJobs: new Map(Object.entries(row.created ?? {})),
  };
}

export interface IntentDetail {
  intent: RetryIntent;
  sourceJob: Job;
  /** The job a CONSUMED intent created; undefined otherwise. */
  resultingJob: Job | undefined;
  audit: AuditEvent[];
  /** The version the source ran under, and the one the new job will run under now. */
  versions: GeneratorVersions;
  /**
   * Who the database's four-eyes rule keeps from executing it while it is PENDING
   * (regent_excluded_executor); null when nobody.
   */
  excludedExecutor: string | null;
}

/**
 * An intent with its source job, the job it created and its audit trail, in one statement;
 * INTENT_NOT_FOUND when there is none.
 */
export async function intentDetail(db: Executor, intentId: string): Promise<IntentDetail> {
  const result = await db.execute(sql`
    SELECT to_jsonb(i) AS intent,
           (SELECT to_jsonb(s) FROM regeneration_jobs s WHERE s.id = i.source_job_id) AS source_job,
           CASE WHEN i.status = 'CONSUMED' THEN (
             SELECT to_jsonb(r) FROM regeneration_jobs r WHERE r.retry_intent_id = i.id
           ) END AS resulting_job,
           ${auditTrailJson(intentId)} AS audit,
           CASE WHEN i.status = 'PENDING' THEN regent_excluded_executor(i.approved_by) END AS excluded_executor,
           regent_job_versions(i.source_job_id) AS versions
    FROM retry_intents i WHERE i.id = ${intentId}`);
  const [row] = rowsOf<{
    intent: JsonObject;
    source_job: JsonObject | null;
    resulting_job: JsonObject | null;
    audit: unknown;
    excluded_executor: string | null;
    versions: GeneratorVersions;
  }>(result);
  if (!row) {
    throw new DomainError("INTENT_NOT_FOUND", `no retry intent with id ${intentId}`, {
      intentId,
    });
  }
  const intent = rowFromJson(retryIntents, row.intent);
  // The foreign key guarantees it; a missing one is a broken database, not a caller's mistake.
  if (!row.source_job) throw new Error(`intent ${intent.id} has no source job`);
  return {
    intent,
    sourceJob: rowFromJson(regenerationJobs, row.source_job),
    resultingJob: row.resulting_job ? rowFromJson(regenerationJobs, row.resulting_job) : undefined,
    audit: rowsFromJson(auditEvents, row.audit),
    excludedExecutor: row.excluded_executor ?? null,
    versions: row.versions,
  };
}

export interface RetryState {
  /** The job that retried (or superseded) it, and where that job is now. */
  retryJobId?: string;
  retryStatus?: JobStatus;
  /** The intent awaiting a decision about it. */
  pendingIntentId?: string;
  /** The intent a person rejected, newest of its intents: leaving it failed was the decision. */
  rejectedIntentId?: string;
}

/**
 * The generators jobs have used (200 at most), for the filter, as one JSON array: read from the
 * database's counters (functions/domain/tallies.ts), a few hundred rows whatever the history.
 */
const GENERATORS = sql`(SELECT coalesce(jsonb_agg(g.generator ORDER BY g.generator), '[]'::jsonb)
  FROM (SELECT generator FROM tallies WHERE subject = 'job'
        GROUP BY generator HAVING sum(count) > 0 ORDER BY 1 LIMIT 200) g)`;

/**
 * The error codes failed jobs (of one generator, when given) have on record, 200 at most, for
 * the error code filter, as one JSON array: from the counters, like the generators.
 */
function errorCodesJson(generator: string | undefined): SQL {
  const only = generator === undefined ? sql`` : sql`AND generator = ${generator}`;
  return sql`(SELECT coalesce(jsonb_agg(c.code ORDER BY c.code), '[]'::jsonb)
    FROM (SELECT code FROM tallies WHERE subject = 'job' AND status = 'FAILED' AND code <> '' ${only}
          GROUP BY code HAVING sum(count) > 0 ORDER BY 1 LIMIT 200) c)`;
}

/**
 * Jobs per status for a list's filter (its status and open-ness aside), as one JSON object. The
 * counters hold generator, status and error code: a filter of those is a sum of their rows. A
 * failure window is not a key of theirs, so its failed jobs are counted through the partial
 * index of FAILED jobs by failure time (`regeneration_jobs_failed_idx`): the count costs the
 * window's failures. A filter of failures matches FAILED jobs only.
 */
function jobCounts(query: JobQuery): SQL {
  if (query.failedAfter || query.failedBefore) {
    const conditions = [sql`j.status = 'FAILED'`];
    if (query.failedAfter) conditions.push(sql`j.finished_at >= ${query.failedAfter}::timestamptz`);
    if (query.failedBefore)
      conditions.push(sql`j.finished_at < ${query.failedBefore}::timestamptz`);
    if (query.generator) conditions.push(sql`j.generator = ${query.generator}`);
    if (query.errorCode) conditions.push(sql`j.error->>'code' = ${query.errorCode}`);
    return sql`(SELECT jsonb_build_object('FAILED', count(*)::int) FROM regeneration_jobs j
      WHERE ${sql.join(conditions, sql` AND `)})`;
  }
  const conditions = [sql`subject = 'job'`];
  if (query.generator) conditions.push(sql`generator = ${query.generator}`);
  if (query.errorCode) conditions.push(sql`status = 'FAILED' AND code = ${query.errorCode}`);
  return sql`(SELECT coalesce(jsonb_object_agg(c.status, c.n), '{}'::jsonb)
    FROM (SELECT status, sum(count)::int AS n FROM tallies WHERE ${sql.join(conditions, sql` AND `)}
          GROUP BY status) c)`;
}

/**
 * How far the open failures a list's filter matches are counted: past it the tab says "10,000+"
 * (a count that grew with a neglected history would cost every page view as much).
 */
export const OPEN_COUNT_CAP = 10_000;

/**
 * The open failures a list's filter matches, counted in open_failures' decision indexes up to
 * one past OPEN_COUNT_CAP.
 */
function openCount(query: JobQuery): SQL {
  return sql`(SELECT count(*)::int FROM (SELECT 1 FROM open_failures f
    WHERE ${openFailureConditions(query)} LIMIT ${OPEN_COUNT_CAP + 1}) o)`;
}

/**
 * For a job of a page: the job that retried it (with its status), the intent awaiting a
 * decision about it, and the intent a person rejected when that was the decision.
 */
const RETRY_STATE = sql`jsonb_build_object(
  'retryJobId', (SELECT r.id FROM regeneration_jobs r WHERE r.retry_of_job_id = page.id),
  'retryStatus', (SELECT r.status FROM regeneration_jobs r WHERE r.retry_of_job_id = page.id),
  'pendingIntentId', (SELECT i.id FROM retry_intents i
                      WHERE i.source_job_id = page.id AND i.status = 'PENDING'),
  'rejectedIntentId', (SELECT i.id FROM open_failures f, LATERAL (
                         SELECT id FROM retry_intents WHERE source_job_id = f.job_id
                         ORDER BY created_at DESC, id DESC LIMIT 1) i
                       WHERE f.job_id = page.id AND f.decision = 'rejected'))`;

/** For an intent of a page: the job it created, when it was consumed. */
const CREATED_JOB = sql`jsonb_build_object('createdJobId', CASE WHEN page.status = 'CONSUMED' THEN (
  SELECT r.id FROM regeneration_jobs r WHERE r.retry_intent_id = page.id) END)`;

export interface JobsPageData {
  page: Page<Job>;
  /** Jobs per status for the list's filter, its status and open-ness aside. */
  counts: Record<JobStatus, number>;
  /** The open failures (they need a decision) the list's filter matches, OPEN_COUNT_CAP + 1 at most. */
  open: number;
  generators: string[];
  /** The error codes failed jobs have on record (of the generator filtered on), for the filter. */
  errorCodes: string[];
  /** For each listed job: what retried it, the intent awaiting a decision, or its rejection. */
  retryStates: Map<string, RetryState>;
  /**
   * The preview of a retry batch of `offer`, when asked and the failures a batch takes from (open
   * or pending) are at most the policy's largest batch; null when there were more.
   */
  offer: PreviewAnswer | null;
}

/**
 * The jobs list of the admin page in one statement: a page of jobs with each one's retry
 * state, the jobs per status and the open failures for the filter, the generators and error
 * codes for the filter and, when `offer` is given, the preview of a retry batch over the
 * failures listed (read only while the failures a batch takes from are at most the policy's
 * largest batch, which is counted no further than that: past it the page leaves the counting
 * to the preview page).
 */
export async function jobsPage(
  db: Executor,
  query: JobQuery,
  offer?: BatchFilter,
): Promise<JobsPageData> {
  const beside: Record<string, SQL> = {
    counts: jobCounts(query),
    open: openCount(query),
    generators: GENERATORS,
    errorCodes: errorCodesJson(query.generator),
  };
  if (offer) {
    beside.offer = sql`CASE WHEN (SELECT count(*) FROM (
        SELECT 1 FROM open_failures f WHERE f.decision IN ('open', 'pending')
        LIMIT (SELECT retry_batch_max + 1 FROM regent_policy WHERE singleton)) o)
        <= (SELECT retry_batch_max FROM regent_policy WHERE singleton)
      THEN ${previewJson(offer)} END`;
  }
  const page = await newestFirstPage<Job>(db, regenerationJobs, {
    where: jobConditions(query),
    limit: query.limit,
    cursor: query.cursor,
    extra: RETRY_STATE,
    beside,
  });
  const counts: Record<JobStatus, number> = { PENDING: 0, RUNNING: 0, COMPLETED: 0, FAILED: 0 };
  Object.assign(counts, page.beside.counts);
  const retryStates = new Map<string, RetryState>();
  page.items.forEach((job, i) => {
    const extra = page.extras[i] as { [K in keyof RetryState]?: RetryState[K] | null };
    const state: RetryState = {};
    if (extra.retryJobId) state.retryJobId = extra.retryJobId;
    if (extra.retryStatus) state.retryStatus = extra.retryStatus;
    if (extra.pendingIntentId) state.pendingIntentId = extra.pendingIntentId;
    if (extra.rejectedIntentId) state.rejectedIntentId = extra.rejectedIntentId;
    if (Object.keys(state).length > 0) retryStates.set(job.id, state);
  });
  return {
    page: { items: page.items, nextCursor: page.nextCursor },
    counts,
    open: Number(page.beside.open ?? 0),
    generators: (page.beside.generators ?? []) as string[],
    errorCodes: (page.beside.errorCodes ?? []) as string[],
    retryStates,
    offer: (page.beside.offer ?? null) as PreviewAnswer | null,
  };
}

/**
 * The generators and error codes on record, for a list's filter, in one statement: what the
 * page shows beside a filter it refused, to be chosen again.
 */
export async function jobFilterChoices(
  db: Executor,
): Promise<{ generators: string[]; errorCodes: string[] }> {
  const result = await db.execute(
    sql`SELECT ${GENERATORS} AS generators, ${errorCodesJson(undefined)} AS error_codes`,
  );
  const [row] = rowsOf<{ generators: string[]; error_codes: string[] }>(result);
  return { generators: row?.generators ?? [], errorCodes: row?.error_codes ?? [] };
}

/**
 * The intents list of the admin page in one statement: a page of intents and, for the
 * consumed ones, the job each created (intent id → job id).
 */
export async function intentsPage(
  db: Executor,
  query: RetryIntentQuery,
): Promise<{ page: Page<RetryIntent>; createdJobs: Map<string, string> }> {
  const page = await newestFirstPage<RetryIntent>(db, retryIntents, {
    where: intentConditions(query),
    limit: query.limit,
    cursor: query.cursor,
    extra: CREATED_JOB,
  });
  const createdJobs = new Map<string, string>();
  page.items.forEach((intent, i) => {
    const created = (page.extras[i] as { createdJobId?: string | null }).createdJobId;
    if (created) createdJobs.set(intent.id, created);
  });
  return { page: { items: page.items, nextCursor: page.nextCursor }, createdJobs };
}

/** The batches list of the admin page in one statement: a page of batches, each with its counts. */
export async function batchesPage(
  db: Executor,
  query: { limit: number; cursor?: string | undefined },
): Promise<{ page: Page<RetryBatch>; counts: BatchCounts[] }> {
  const page = await newestFirstPage<RetryBatch>(db, retryBatches, {
    ...query,
    extra: sql`jsonb_build_object('counts', ${batchCountsJson(sql`page.id`)})`,
  });
  return {
    page: { items: page.items, nextCursor: page.nextCursor },
    counts: page.extras.map((extra) => batchCountsFrom(extra.counts)),
  };
}

/**
 * What the new-batch page shows, in one statement: the generators and error codes for the
 * filter and, for a filter that is valid, the database's preview of a batch (`preview`
 * undefined when `filter` is not: the caller has its refusal from normaliseFilter).
 */
export async function batchPreviewPage(
  db: Executor,
  filter: BatchFilter | undefined,
): Promise<{ generators: string[]; errorCodes: string[]; preview: PreviewAnswer | undefined }> {
  const preview = filter ? previewJson(filter) : sql`NULL::jsonb`;
  const result = await db.execute(
    sql`SELECT ${GENERATORS} AS generators, ${errorCodesJson(undefined)} AS error_codes,
               ${preview} AS preview`,
  );
  const [row] = rowsOf<{
    generators: string[];
    error_codes: string[];
    preview: PreviewAnswer | null;
  }>(result);
  return {
    generators: row?.generators ?? [],
    errorCodes: row?.error_codes ?? [],
    preview: filter && row?.preview ? row.preview : undefined,
  };
}

/** What every signed-in admin page shows beside its own content, read with its caller. */
export interface PageContext {
  /** `token:<id>` → name. */
  tokenNames: Map<string, string>;
  /** Whether retries surge. */
  surge: Surge | undefined;
  /** The generators paused now, by name: their jobs wait PENDING until one is resumed. */
  paused: PausedGenerator[];
  /** The catalog's names, when the page asked for them (`pageContextSql`'s `catalog`). */
  catalog?: string[];
  /** The database's policy, as the pages show it and pre-check forms against it. */
  policy: PolicyView;
  /** The database's clock when it answered: what a page judges an intent's expiry by. */
  now: Date;
}

/** A paused generator as every page names it: who pulled the brake, when, and why. */
export interface PausedGenerator {
  name: string;
  pausedAt: Date;
  pausedBy: string;
  pauseReason: string;
}

/** The database's policy (the `regent_policy` row), as the pages read it. */
export interface PolicyView {
  retryBudget: number;
  intentTtlHours: number;
  intentTtlMaxHours: number;
  requireDistinctExecutor: boolean;
  retryBatchMax: number;
}

/**
 * The statement parts that read a page's context, by name: read beside the caller in the
 * statement that proves it (functions/domain/caller-guard.ts), so they cost no round trip of
 * their own. `pageContextFrom` turns the answers into the context. With `catalog`, the names
 * of the generator catalog come too, for a page that tells generators of the catalog from
 * names only old jobs carry (the signals page).
 *
 * The paused generators are read from the catalog itself, a table of a few rows (one per
 * generator a worker runs), so the part costs a scan of those rows and nothing per job.
 */
export function pageContextSql(
  surge: SurgeConfig,
  options: { catalog?: boolean } = {},
): Record<string, SQL> {
  const parts: Record<string, SQL> = {
    names: sql`(SELECT coalesce(jsonb_object_agg('token:' || n.id, n.name), '{}'::jsonb)
                FROM (SELECT id, name FROM api_tokens LIMIT 5000) n)`,
    surge: sql`(SELECT to_jsonb(surge) FROM (${surgeQuery(surge)}) surge)`,
    paused: sql`(SELECT coalesce(jsonb_agg(jsonb_build_object('name', g.name,
                  'pausedAt', regent_iso(g.paused_at), 'pausedBy', g.paused_by,
                  'pauseReason', g.pause_reason) ORDER BY g.name COLLATE "C"), '[]'::jsonb)
                FROM generators g WHERE g.paused_at IS NOT NULL)`,
    policy: sql`(SELECT jsonb_build_object('retryBudget', p.retry_budget, 'intentTtlHours', p.intent_ttl_hours,
                  'intentTtlMaxHours', p.intent_ttl_max_hours,
                  'requireDistinctExecutor', p.require_distinct_executor, 'retryBatchMax', p.retry_batch_max)
                FROM regent_policy p WHERE p.singleton)`,
    now: sql`regent_iso(statement_timestamp())`,
  };
  if (options.catalog) {
    parts.catalog = sql`(SELECT coalesce(jsonb_agg(g.name ORDER BY g.name COLLATE "C"), '[]'::jsonb)
                         FROM generators g)`;
  }
  return parts;
}

export function pageContextFrom(answers: Record<string, unknown>, surge: SurgeConfig): PageContext {
  return {
    tokenNames: new Map(Object.entries((answers.names ?? {}) as Record<string, string>)),
    surge: answers.surge ? surgeFrom(answers.surge as SurgeRow, surge) : undefined,
    paused: (
      (answers.paused ?? []) as (Omit<PausedGenerator, "pausedAt"> & { pausedAt: string })[]
    ).map((g) => ({ ...g, pausedAt: new Date(g.pausedAt) })),
    ...(Array.isArray(answers.catalog) ? { catalog: answers.catalog as string[] } : {}),
    policy: answers.policy as PolicyView,
    now: new Date(answers.now as string),
  };
}
