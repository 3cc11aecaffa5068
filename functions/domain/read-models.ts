/**
 * Read compositions: a job or an intent with everything shown beside it, as the API's detail
 * routes and the admin page both present them, and the many-rows-at-once lookups of the lists.
 * Nothing here writes.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import {
  type AuditEvent,
  apiTokens,
  type Job,
  type Output,
  type RetryIntent,
  regenerationJobs,
  retryIntents,
} from "../../db/schema";
import type { Executor } from "../../db/types";
import { auditTrail } from "./audit";
import { findJob, findOutput, getJob, getLineage, type LineageEntry } from "./jobs";
import { findJobCreatedBy, getRetryIntent, listRetryIntentsForJob } from "./retry-intents";

export interface JobDetail {
  job: Job;
  output: Output | undefined;
  /** The whole retry chain, oldest first. */
  lineage: LineageEntry[];
  intents: RetryIntent[];
}

/** A job with its output, its retry chain and its intents; JOB_NOT_FOUND when there is none. */
export async function jobDetail(db: Executor, jobId: string): Promise<JobDetail> {
  const job = await getJob(db, jobId);
  const [output, lineage, intents] = await Promise.all([
    findOutput(db, job.id),
    getLineage(db, job.id),
    listRetryIntentsForJob(db, job.id),
  ]);
  return { job, output, lineage, intents };
}

export interface IntentDetail {
  intent: RetryIntent;
  sourceJob: Job;
  /** The job a CONSUMED intent created; undefined otherwise. */
  resultingJob: Job | undefined;
  audit: AuditEvent[];
}

/** An intent with its source job, the job it created and its audit trail; INTENT_NOT_FOUND. */
export async function intentDetail(db: Executor, intentId: string): Promise<IntentDetail> {
  const intent = await getRetryIntent(db, intentId);
  const [sourceJob, resultingJob, audit] = await Promise.all([
    findJob(db, intent.sourceJobId),
    intent.status === "CONSUMED" ? findJobCreatedBy(db, intent.id) : undefined,
    auditTrail(db, intent.id),
  ]);
  // The foreign key guarantees it; a missing one is a broken database, not a caller's mistake.
  if (!sourceJob) throw new Error(`intent ${intent.id} has no source job`);
  return { intent, sourceJob, resultingJob, audit };
}

export interface RetryState {
  retryJobId?: string;
  pendingIntentId?: string;
}

/** For each job: the job that retried it, or the intent awaiting a decision about it. */
export async function retryStatesOf(
  db: Executor,
  jobIds: string[],
): Promise<Map<string, RetryState>> {
  const states = new Map<string, RetryState>();
  if (jobIds.length === 0) return states;
  const [retries, pending] = await Promise.all([
    db
      .select({ id: regenerationJobs.id, of: regenerationJobs.retryOfJobId })
      .from(regenerationJobs)
      .where(inArray(regenerationJobs.retryOfJobId, jobIds)),
    db
      .select({ id: retryIntents.id, of: retryIntents.sourceJobId })
      .from(retryIntents)
      .where(and(inArray(retryIntents.sourceJobId, jobIds), eq(retryIntents.status, "PENDING"))),
  ]);
  for (const row of retries) {
    if (row.of) states.set(row.of, { ...states.get(row.of), retryJobId: row.id });
  }
  for (const row of pending) {
    states.set(row.of, { ...states.get(row.of), pendingIntentId: row.id });
  }
  return states;
}

/** intent id → the job it created, for consumed intents. */
export async function jobsCreatedBy(
  db: Executor,
  intentIds: string[],
): Promise<Map<string, string>> {
  if (intentIds.length === 0) return new Map();
  const rows = await db
    .select({ id: regenerationJobs.id, intentId: regenerationJobs.retryIntentId })
    .from(regenerationJobs)
    .where(inArray(regenerationJobs.retryIntentId, intentIds));
  return new Map(rows.flatMap((r) => (r.intentId ? [[r.intentId, r.id] as const] : [])));
}

/** The generators jobs have used, for the filter; the index on (generator, …) keeps it cheap. */
export async function knownGenerators(db: Executor): Promise<string[]> {
  const rows = await db
    .selectDistinct({ generator: regenerationJobs.generator })
    .from(regenerationJobs)
    .orderBy(sql`1`)
    .limit(200);
  return rows.map((r) => r.generator);
}

/** `token:<id>` → name for every token; the table holds a handful of rows, one per person or system. */
export async function tokenNames(db: Executor): Promise<Map<string, string>> {
  const rows = await db
    .select({ id: apiTokens.id, name: apiTokens.name })
    .from(apiTokens)
    .limit(5000);
  return new Map(rows.map((r) => [`token:${r.id}`, r.name]));
}
