import { eq, inArray, type SQL, sql } from "drizzle-orm";
import { type Job, type JobStatus, regenerationJobs } from "../../db/schema";
import type { Executor } from "../../db/types";
import { rowsOf } from "../../db/types";
import type { AuditContext } from "./audit";
import { DomainError } from "./errors";
import { newId } from "./ids";
import { newestFirstPage, type Page } from "./pagination";
import {
  contextJson,
  createdOf,
  type IdempotencyKeyUse,
  jobFromJson,
  keyJson,
  type Once,
  runOnce,
} from "./units";

export const GENERATOR_NAME = /^[a-z][a-z0-9_.-]{0,63}$/;

export interface SubmitJobInput {
  generator: string;
  input: unknown;
}

/**
 * Creates a PENDING job and its JOB_CREATED event, and wakes the worker, in one statement (the
 * database's `regent_submit_job`). With an Idempotency-Key, the key is looked up, replayed or
 * refused, and stored, in that same statement.
 */
export async function submitJobOnce(
  db: Executor,
  ctx: AuditContext,
  request: SubmitJobInput,
  key?: IdempotencyKeyUse,
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
  return runOnce(
    db,
    sql`regent_submit_job(${newId()}, ${request.generator}, ${JSON.stringify(request.input)}::jsonb, ${contextJson(ctx)}, ${keyJson(key)})`,
    (body) => jobFromJson(body.job as Record<string, unknown>),
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
 * The whole retry chain a job belongs to, oldest first: its ancestors through
 * `retry_of_job_id` and its descendants (each job is retried at most once, so it is a chain).
 */
export async function getLineage(db: Executor, jobId: string): Promise<LineageEntry[]> {
  const result = await db.execute(sql`
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
    )
    SELECT id, step FROM up UNION SELECT id, step FROM down ORDER BY step`);
  const steps = rowsOf<{ id: string; step: number | string }>(result).map((r) => ({
    id: r.id,
    step: Number(r.step),
  }));
  if (steps.length === 0) return [];
  const jobs = await db
    .select()
    .from(regenerationJobs)
    .where(
      inArray(
        regenerationJobs.id,
        steps.map((s) => s.id),
      ),
    );
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const base = steps[0]?.step ?? 0;
  return steps.flatMap((s) => {
    const job = byId.get(s.id);
    return job ? [{ job, depth: s.step - base }] : [];
  });
}

/** How many retries stand between this job and its original: 0 for an original. */
export async function retryDepth(db: Executor, jobId: string): Promise<number> {
  const result = await db.execute(sql`
    WITH RECURSIVE up(id, retry_of, depth) AS (
      SELECT id, retry_of_job_id, 0 FROM regeneration_jobs WHERE id = ${jobId}
      UNION ALL
      SELECT j.id, j.retry_of_job_id, up.depth + 1
      FROM regeneration_jobs j JOIN up ON j.id = up.retry_of
    )
    SELECT max(depth) AS depth FROM up`);
  const [row] = rowsOf<{ depth: number | string | null }>(result);
  return Number(row?.depth ?? 0);
}

export interface JobQuery {
  status?: JobStatus | undefined;
  generator?: string | undefined;
  createdBy?: string | undefined;
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

/** The filters of a job list as conditions on regeneration_jobs. */
export function jobConditions(query: Omit<JobQuery, "limit" | "cursor">): SQL[] {
  const conditions: SQL[] = [];
  if (query.status) conditions.push(eq(regenerationJobs.status, query.status));
  if (query.generator) conditions.push(eq(regenerationJobs.generator, query.generator));
  if (query.createdBy) conditions.push(eq(regenerationJobs.createdBy, query.createdBy));
  return conditions;
}
