/**
 * Read-only queries the pages need to show many rows at once, where calling the domain's
 * one-row functions per row would cost a query each. Nothing here writes.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { apiTokens, regenerationJobs, retryIntents } from "../db/schema";
import type { Executor } from "../db/types";

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
