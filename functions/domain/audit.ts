import { and, eq, lt, type SQL, sql } from "drizzle-orm";
import { type AuditEvent, auditEvents } from "../../db/schema";
import { type Executor, rowsOf } from "../../db/types";
import { rowsFromJson } from "./json-rows";
import { decodeNumericCursor, type Page, pageOf } from "./pagination";

export const AUDIT_TYPES = [
  "JOB_CREATED",
  "JOB_CLAIMED",
  "JOB_COMPLETED",
  "JOB_FAILED",
  "RETRY_INTENT_CREATED",
  "RETRY_INTENT_EXECUTED",
  "RETRY_INTENT_CONSUMED",
  "RETRY_INTENT_REJECTED",
  "REGEN_JOB_RETRIED",
  "REGEN_JOB_SUPERSEDED",
  "RETRY_INTENT_EXPIRED",
  "RETRY_BATCH_CREATED",
  "RETRY_BATCH_EXECUTED",
  "RETRY_BATCH_REJECTED",
  "ALERT_SENT",
  "API_TOKEN_CREATED",
  "API_TOKEN_REVOKED",
  "AUTH_DENIED",
  "ADMIN_SIGNED_IN",
  "ADMIN_SIGNED_OUT",
  "SIGN_IN_FAILED",
  "POLICY_CHANGED",
  "GENERATOR_VERSION_PUBLISHED",
  "GENERATOR_VERSION_CURRENT",
  "GENERATOR_PAUSED",
  "GENERATOR_RESUMED",
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

export type SubjectType =
  | "job"
  | "retry_intent"
  | "retry_batch"
  | "api_token"
  | "request"
  | "alert"
  | "admin_session"
  | "policy"
  | "generator";

/** Who did something and from where. System actors (the worker) have no request fields. */
export interface AuditContext {
  actor: string;
  requestId?: string | null | undefined;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
}

export interface AuditEntry {
  type: AuditType;
  subjectType: SubjectType;
  subjectId: string;
  data?: Record<string, unknown>;
}

/**
 * Writes audit events with `tx`, the transaction of the change they record: the database
 * refuses to commit a job or intent change without its event in the same transaction.
 */
export async function recordAudit(
  tx: Executor,
  ctx: AuditContext,
  entries: readonly AuditEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  // Through the database's own writer: the event's id, time and transaction are its own.
  await tx.execute(
    sql`SELECT regent_audit(${JSON.stringify(auditCtx(ctx))}::jsonb, ${JSON.stringify(entries)}::jsonb)`,
  );
}

/** The caller as the database's functions take it (`ctx` of a unit of work's argument). */
export function auditCtx(ctx: AuditContext) {
  return {
    actor: ctx.actor,
    requestId: ctx.requestId ?? null,
    ip: ctx.ip ?? null,
    userAgent: ctx.userAgent ?? null,
  };
}

export interface AuditQuery {
  subjectId?: string | undefined;
  type?: string | undefined;
  /** Who acted: as recorded, or as the admin page shows it (actorCondition). */
  actor?: string | undefined;
  /** ISO-8601, checked by the caller: events recorded at or after it. */
  after?: string | undefined;
  /** ISO-8601, checked by the caller: events recorded before it. */
  before?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * Events by one actor, named as recorded (with its colon: `token:<id>`, `worker:…`) or as the
 * admin page shows actors: an Access identity by its email (`access:` left out), a token by its
 * name (the newest token of that name), and anything else (`system`) as recorded. The name is
 * resolved to one recorded actor inside the statement, so the read is one range of the actor
 * index.
 */
function actorCondition(actor: string): SQL {
  if (actor.includes(":")) return eq(auditEvents.actor, actor);
  if (actor.includes("@")) return eq(auditEvents.actor, `access:${actor}`);
  return sql`${auditEvents.actor} = coalesce(
    (SELECT 'token:' || t.id FROM api_tokens t WHERE t.name = ${actor}
     ORDER BY t.created_at DESC LIMIT 1), ${actor})`;
}

/**
 * Newest first, paged by id; one statement. An actor is read through its index
 * (audit_events_actor_idx), a time window through the block range index on created_at.
 */
export async function listAudit(
  db: Executor,
  query: AuditQuery,
): Promise<Page<AuditEvent & { id: number }>> {
  const conditions: SQL[] = [];
  if (query.subjectId) conditions.push(eq(auditEvents.subjectId, query.subjectId));
  if (query.type) conditions.push(eq(auditEvents.type, query.type));
  if (query.actor) conditions.push(actorCondition(query.actor));
  if (query.after) conditions.push(sql`${auditEvents.createdAt} >= ${query.after}::timestamptz`);
  if (query.before) conditions.push(sql`${auditEvents.createdAt} < ${query.before}::timestamptz`);
  if (query.cursor) conditions.push(lt(auditEvents.id, decodeNumericCursor(query.cursor)));
  const where = conditions.length > 0 ? sql`WHERE ${and(...conditions)}` : sql``;
  const result = await db.execute(sql`
    SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.id DESC), '[]'::jsonb) AS rows
    FROM (SELECT * FROM ${auditEvents} ${where} ORDER BY id DESC LIMIT ${query.limit + 1}) a`);
  const [row] = rowsOf<{ rows: unknown }>(result);
  return pageOf(rowsFromJson(auditEvents, row?.rows), query.limit);
}

/**
 * Every audit event about one subject, oldest first, as one JSON array (rows of `to_jsonb`):
 * for a read that shows the trail beside the subject in one statement.
 */
export function auditTrailJson(subjectId: string): SQL {
  return sql`(SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.id), '[]'::jsonb)
    FROM audit_events a WHERE a.subject_id = ${subjectId})`;
}

/** Every audit event about one subject, oldest first. */
export async function auditTrail(db: Executor, subjectId: string): Promise<AuditEvent[]> {
  return db
    .select()
    .from(auditEvents)
    .where(eq(auditEvents.subjectId, subjectId))
    .orderBy(auditEvents.id);
}
