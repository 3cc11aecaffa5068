import { eq, type SQL, sql } from "drizzle-orm";
import { GENERATOR_NAME } from "../../db/catalog";
import { type Job, type JobStatus, regenerationJobs } from "../../db/schema";
import type { Executor } from "../../db/types";
import type { AuditContext } from "./audit";
import { DomainError } from "./errors";
import { type InputSchemas, processInputSchemas, withCheckedInput } from "./generators";
import { rowFromJson } from "./json-rows";
import { newestFirstPage, type Page } from "./pagination";
import { createdOf, type IdempotencyKeyUse, type Once, runOnce } from "./units";

export interface SubmitJobInput {
  generator: string;
  input: unknown;
}

/**
 * Creates a PENDING job and its JOB_CREATED event, and wakes the worker, in one statement (the
 * database's `regent_submit_job`). With an Idempotency-Key, the key is looked up, replayed or
 * refused, and stored, in that same statement.
 *
 * The generator must be in the catalog (UNKNOWN_GENERATOR) and the input must match its current
 * input schema (VALIDATION_FAILED, naming the paths); nothing is written otherwise. The input is
 * checked here, against the schema `schemas` holds; the statement names the schema it was
 * checked against, and the database refuses it when that is not the current one, with the
 * current one (GENERATOR_SCHEMA_CHANGED): learnt, checked, asked again (`withCheckedInput`).
 */
export async function submitJobOnce(
  db: Executor,
  ctx: AuditContext,
  request: SubmitJobInput,
  key?: IdempotencyKeyUse,
  schemas: InputSchemas = processInputSchemas,
): Promise<Once<Job>> {
  if (!GENERATOR_NAME.test(request.generator)) {
    throw new DomainError(
      "VALIDATION_FAILED",
      "generator must be a lower-case name of 1 to 64 characters (letters, digits, . _ -)",
      { field: "generator" },
    );
  }
  // A job's input is a JSON value other than null (the NOT NULL column would refuse SQL NULL).
  if (request.input === undefined || request.input === null) {
    throw new DomainError("VALIDATION_FAILED", "input is required and may not be null", {
      field: "input",
    });
  }
  return withCheckedInput(
    db,
    schemas,
    request.input,
    request.generator,
    (executor, checkedAgainst) =>
      runOnce(
        executor,
        "submit_job",
        ctx,
        { generator: request.generator, input: request.input, checkedAgainst },
        key,
        (body) => rowFromJson(regenerationJobs, body.job as Record<string, unknown>),
      ),
  );
}

/** Creates a PENDING job and its JOB_CREATED event in one statement. */
export async function submitJob(
  db: Executor,
  ctx: AuditContext,
  request: SubmitJobInput,
): Promise<Job> {
  return createdOf(await submitJobOnce(db, ctx, request));
}

export async function findJob(db: Executor, id: string): Promise<Job | undefined> {
  const [job] = await db.select().from(regenerationJobs).where(eq(regenerationJobs.id, id));
  return job;
}

/** The job, or JOB_NOT_FOUND. */
export async function getJob(db: Executor, id: string): Promise<Job> {
  const job = await findJob(db, id);
  if (!job) throw new DomainError("JOB_NOT_FOUND", `no job with id ${id}`, { jobId: id });
  return job;
}

export interface LineageEntry {
  job: Job;
  /** 0 for the original job, 1 for its first retry, and so on. */
  depth: number;
}

/**
 * Which failures a list is about: their error code, and when they failed (ISO-8601 instants on
 * `finished_at`, checked by the caller: on or after `failedAfter`, before `failedBefore`). Each
 * field set keeps FAILED jobs only.
 */
export interface FailureFilter {
  errorCode?: string | undefined;
  failedAfter?: string | undefined;
  failedBefore?: string | undefined;
}

export interface JobQuery extends FailureFilter {
  status?: JobStatus | undefined;
  generator?: string | undefined;
  createdBy?: string | undefined;
  /**
   * true: only the open failures (FAILED, newest of their chain, no intent pending, and the
   * newest intent not rejected by a person: they need a decision); false: every job but them.
   */
  open?: boolean | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listJobs(db: Executor, query: JobQuery): Promise<Page<Job>> {
  const { items, nextCursor } = await newestFirstPage<Job>(db, regenerationJobs, {
    where: jobConditions(query),
    limit: query.limit,
    cursor: query.cursor,
  });
  return { items, nextCursor };
}

/** Whether a filter names any failure field. */
export const filtersFailures = (filter: FailureFilter): boolean =>
  Boolean(filter.errorCode || filter.failedAfter || filter.failedBefore);

/**
 * The open failures a filter matches, as conditions on open_failures (`f`), for a read that
 * takes them from its decision indexes (open_failures_decision_idx, _decision_code_idx).
 */
export function openFailureConditions(
  filter: FailureFilter & { generator?: string | undefined },
): SQL {
  const conditions = [sql`f.decision = 'open'`];
  if (filter.generator) conditions.push(sql`f.generator = ${filter.generator}`);
  if (filter.errorCode) conditions.push(sql`f.error_code = ${filter.errorCode}`);
  if (filter.failedAfter) conditions.push(sql`f.failed_at >= ${filter.failedAfter}::timestamptz`);
  if (filter.failedBefore) conditions.push(sql`f.failed_at < ${filter.failedBefore}::timestamptz`);
  return sql.join(conditions, sql` AND `);
}

/** The filters of a job list as conditions on regeneration_jobs. */
export function jobConditions(query: Omit<JobQuery, "limit" | "cursor">): SQL[] {
  const conditions: SQL[] = [];
  if (query.status) conditions.push(eq(regenerationJobs.status, query.status));
  if (query.generator) conditions.push(eq(regenerationJobs.generator, query.generator));
  if (query.createdBy) conditions.push(eq(regenerationJobs.createdBy, query.createdBy));
  if (filtersFailures(query)) conditions.push(eq(regenerationJobs.status, "FAILED"));
  if (query.errorCode) {
    conditions.push(sql`${regenerationJobs.error}->>'code' = ${query.errorCode}`);
  }
  if (query.failedAfter) {
    conditions.push(sql`${regenerationJobs.finishedAt} >= ${query.failedAfter}::timestamptz`);
  }
  if (query.failedBefore) {
    conditions.push(sql`${regenerationJobs.finishedAt} < ${query.failedBefore}::timestamptz`);
  }
  // The open ones are FAILED jobs whose open_failures row says so: the page walks the failed
  // jobs newest first (regeneration_jobs_status_created_idx, or the generator's index) and
  // probes each one's row, so it reads about a page's worth, whatever the history or the
  // number of open failures (reading their ids first would cost all of them on every page).
  // A scalar subquery, not EXISTS: PostgreSQL cannot turn it into a join that starts from
  // open_failures, which it would do whenever it thought few failures open.
  if (query.open === true) {
    conditions.push(eq(regenerationJobs.status, "FAILED"));
    conditions.push(
      sql`(SELECT f.decision FROM open_failures f WHERE f.job_id = ${regenerationJobs.id}) = 'open'`,
    );
  } else if (query.open === false) {
    conditions.push(
      sql`NOT EXISTS (SELECT 1 FROM open_failures f WHERE f.job_id = ${regenerationJobs.id} AND f.decision = 'open')`,
    );
  }
  return conditions;
}
