/**
 * The writes of the API and the admin page run as units of work inside PostgreSQL: each is one
 * `regent_…` function (db/functions/) called by one autocommit statement, so a
 * write costs one round trip, whatever locks, checks, rows and audit events it takes. The
 * functions answer with the rows as the API shows them (camelCase, ISO timestamps); this module
 * calls them, turns their refusals into DomainErrors, and their answers back into rows.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Job, RetryBatch, RetryIntent } from "../../db/schema";
import { type Executor, rowsOf } from "../../db/types";
import { type AuditContext, auditCtx } from "./audit";
import { callerArgument, guardOf } from "./caller-guard";
import { refusalFrom } from "./refusals";

/** An Idempotency-Key as a creation stores it with its response. */
export interface IdempotencyKeyUse {
  principal: string;
  key: string;
  method: string;
  path: string;
  requestSha256: string;
  /** The response's HTTP status, stored with it. */
  status: number;
  /** How long a stored key is replayed (IDEMPOTENCY_KEY_TTL_HOURS). */
  ttlHours: number;
}

/** What a creation that accepts an Idempotency-Key did: created `T`, or replayed a response. */
export type Once<T> = { replayed: false; created: T } | { replayed: true; body: unknown };

/** The database's units of work (db/functions/), each taking one jsonb argument. */
export type Unit =
  | "regent_reject_retry_intent"
  | "regent_execute_retry_batch"
  | "regent_reject_retry_batch"
  | "regent_start_admin_session"
  | "regent_end_admin_session"
  | "regent_create_api_token"
  | "regent_revoke_api_token";

/** The creations that accept an Idempotency-Key, run through `regent_idempotent`. */
export type IdempotentUnit =
  | "submit_job"
  | "create_retry_intent"
  | "execute_retry_intent"
  | "create_retry_batch";

/**
 * Runs `call(p)` (a function call expression over the argument `p`, as jsonb) as one
 * statement; a refusal becomes a DomainError. Through a guarded handle (caller-guard.ts) the
 * credential rides in `p.caller`, and the unit settles its caller before its work.
 */
async function runCall<T>(
  db: Executor,
  p: Record<string, unknown>,
  call: (p: SQL) => SQL,
): Promise<T> {
  const guarded = guardOf(db);
  const argument = guarded ? { ...p, caller: callerArgument(guarded.guard) } : p;
  let result: unknown;
  try {
    result = await (guarded?.inner ?? db).execute(
      sql`SELECT ${call(sql`${JSON.stringify(argument)}::jsonb`)} AS result`,
    );
  } catch (error) {
    throw refusalFrom(error) ?? error;
  }
  if (guarded) guarded.guard.proven = true;
  const [row] = rowsOf<{ result: T | string }>(result);
  if (!row) throw new Error("a unit of work returned no row");
  // Every driver parses jsonb; a text answer would mean a driver that does not.
  return (typeof row.result === "string" ? JSON.parse(row.result) : row.result) as T;
}

/**
 * Runs a unit of work as one statement: `unit(p)`, where `p` carries the caller (`ctx`, as
 * audit events record it) and the request's fields. A refusal becomes a DomainError.
 */
export function runUnit<T>(
  db: Executor,
  unit: Unit,
  ctx: AuditContext,
  fields: Record<string, unknown>,
): Promise<T> {
  return runCall<T>(
    db,
    { ...fields, ctx: auditCtx(ctx) },
    (p) => sql`${sql.identifier(unit)}(${p})`,
  );
}

/**
 * Runs a creation that accepts an Idempotency-Key (`regent_idempotent`), mapping its fresh
 * answer with `map`; a replay answers the stored body as it is.
 */
export async function runOnce<T>(
  db: Executor,
  unit: IdempotentUnit,
  ctx: AuditContext,
  fields: Record<string, unknown>,
  key: IdempotencyKeyUse | undefined,
  map: (body: Record<string, unknown>) => T,
): Promise<Once<T>> {
  const answer = await runCall<{ replayed?: boolean; body: Record<string, unknown> }>(
    db,
    { ...fields, ctx: auditCtx(ctx), key: key ?? null },
    (p) => sql`regent_idempotent(${unit}, ${p})`,
  );
  return answer.replayed
    ? { replayed: true, body: answer.body }
    : { replayed: false, created: map(answer.body) };
}

/** The value of a creation made without an Idempotency-Key, which never replays. */
export function createdOf<T>(once: Once<T>): T {
  if (once.replayed) throw new Error("a creation without a key replayed");
  return once.created;
}

type Json = Record<string, unknown>;
const date = (value: unknown) => new Date(value as string);
const dateOrNull = (value: unknown) => (value === null ? null : new Date(value as string));

export function jobFromJson(j: Json): Job {
  return {
    id: j.id as string,
    generator: j.generator as string,
    input: j.input,
    status: j.status as Job["status"],
    retryOfJobId: j.retryOfJobId as string | null,
    retryIntentId: j.retryIntentId as string | null,
    createdBy: j.createdBy as string,
    createdAt: date(j.createdAt),
    claimedBy: j.claimedBy as string | null,
    claimedAt: dateOrNull(j.claimedAt),
    leaseExpiresAt: dateOrNull(j.leaseExpiresAt),
    finishedAt: dateOrNull(j.finishedAt),
    error: j.error as Job["error"],
  };
}

export function intentFromJson(i: Json): RetryIntent {
  return {
    id: i.id as string,
    sourceJobId: i.sourceJobId as string,
    sourceOutputRef: i.sourceOutputRef as string | null,
    reasonCode: i.reasonCode as RetryIntent["reasonCode"],
    reasonText: i.reasonText as string,
    approvedBy: i.approvedBy as string,
    approvedAt: date(i.approvedAt),
    status: i.status as RetryIntent["status"],
    createdAt: date(i.createdAt),
    consumedBy: i.consumedBy as string | null,
    consumedAt: dateOrNull(i.consumedAt),
    rejectedBy: i.rejectedBy as string | null,
    rejectedAt: dateOrNull(i.rejectedAt),
    rejectionText: i.rejectionText as string | null,
    batchId: i.batchId as string | null,
    budgetOverride: i.budgetOverride as boolean,
    expiresAt: date(i.expiresAt),
  };
}

export function batchFromJson(b: Json): RetryBatch {
  return {
    id: b.id as string,
    filter: b.filter as Record<string, string>,
    reasonCode: b.reasonCode as RetryBatch["reasonCode"],
    reasonText: b.reasonText as string,
    approvedBy: b.approvedBy as string,
    approvedAt: date(b.approvedAt),
    jobCount: b.jobCount as number,
    createdAt: date(b.createdAt),
  };
}
