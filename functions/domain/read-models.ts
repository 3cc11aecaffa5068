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
import { type Executor, rowsOf } from "../../db/types";
import type { SurgeConfig } from "../config/signals";
import { type ActiveAdminSession, ADMIN_SESSION_ID } from "./admin-sessions";
import { auditTrail } from "./audit";
import { findJob, findOutput, getJob, getLineage, type LineageEntry } from "./jobs";
import { findJobCreatedBy, getRetryIntent, listRetryIntentsForJob } from "./retry-intents";
import { type Surge, type SurgeRow, surgeFrom, surgeQuery } from "./signals";

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

/** What every signed-in admin page needs before its own read: who, their names, the surge. */
export interface AdminPageContext {
  /** The live session the cookie named; undefined when there is none (or none was named). */
  session: ActiveAdminSession | undefined;
  /** `token:<id>` → name; empty when nobody is signed in. */
  tokenNames: Map<string, string>;
  /** Whether retries surge; undefined when nobody is signed in. */
  surge: Surge | undefined;
}

/**
 * The admin page's first statement, on every request: the session the cookie names, checked
 * with its token (not ended, not expired, the token not revoked: any of the three signs it out
 * at once), and, when someone is signed in (by that session, or by Access when `signedIn`), the
 * token names and the surge for the banner. One round trip; the page's own read is the second.
 */
export async function readAdminPageContext(
  db: Executor,
  options: { sessionId: string | null; signedIn: boolean; surge: SurgeConfig },
): Promise<AdminPageContext> {
  const sessionId =
    options.sessionId !== null && ADMIN_SESSION_ID.test(options.sessionId)
      ? options.sessionId
      : null;
  const result = await db.execute(sql`
    WITH session AS (
      SELECT s.id, s.token_id AS "tokenId", t.name AS "tokenName", t.role, s.expires_at AS "expiresAt"
      FROM admin_sessions s JOIN api_tokens t ON t.id = s.token_id
      WHERE s.id = ${sessionId} AND s.ended_at IS NULL AND s.expires_at > now()
        AND t.revoked_at IS NULL
    ), signed_in AS (
      SELECT ${options.signedIn}::boolean OR EXISTS (SELECT 1 FROM session) AS yes
    )
    SELECT (SELECT to_jsonb(session) FROM session) AS session,
           CASE WHEN (SELECT yes FROM signed_in) THEN (
             SELECT coalesce(jsonb_object_agg('token:' || n.id, n.name), '{}'::jsonb)
             FROM (SELECT id, name FROM api_tokens LIMIT 5000) n
           ) END AS names,
           CASE WHEN (SELECT yes FROM signed_in) THEN (
             SELECT to_jsonb(surge) FROM (${surgeQuery(options.surge)}) surge
           ) END AS surge`);
  const [row] = rowsOf<{
    session: (Omit<ActiveAdminSession, "expiresAt"> & { expiresAt: string }) | null;
    names: Record<string, string> | null;
    surge: SurgeRow | null;
  }>(result);
  return {
    session: row?.session
      ? { ...row.session, expiresAt: new Date(row.session.expiresAt) }
      : undefined,
    tokenNames: new Map(Object.entries(row?.names ?? {})),
    surge: row?.surge ? surgeFrom(row.surge, options.surge) : undefined,
  };
}
