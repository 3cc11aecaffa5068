/**
 * The writes of the API and the admin page run as units of work inside PostgreSQL: each is one
 * `regent_…` function (db/functions/) called by one autocommit statement, so a
 * write costs one round trip, whatever locks, checks, rows and audit events it takes. The
 * functions answer with the rows they wrote (`to_jsonb`), which `rowFromJson` turns into the
 * rows a Drizzle select returns; this module calls them and turns their refusals into
 * DomainErrors.
 */
import { type SQL, sql } from "drizzle-orm";
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

/**
 * What a creation that accepts an Idempotency-Key did: created `T`, or replayed what the first
 * request with the key created (the database stores the unit's answer with the key, and a replay
 * presents it as the first response was presented). `body`: a response stored by the release
 * before this one, which stored the response itself; keys live a day, so this can go in the
 * release after this one.
 */
export type Once<T> = { replayed: boolean; created: T } | { replayed: true; body: unknown };

/** A stored answer of the previous release: its rows were already the API's camelCase JSON. */
function storedAsResponse(body: Record<string, unknown>): boolean {
  return Object.values(body).some(
    (value) => typeof value === "object" && value !== null && "createdAt" in value,
  );
}

/** The database's units of work (db/functions/), each taking one jsonb argument. */
export type Unit =
  | "regent_reject_retry_intent"
  | "regent_execute_retry_batch"
  | "regent_reject_retry_batch"
  | "regent_start_admin_session"
  | "regent_end_admin_session"
  | "regent_create_api_token"
  | "regent_revoke_api_token"
  | "regent_pause_generator"
  | "regent_resume_generator";

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
  if (answer.replayed && storedAsResponse(answer.body))
    return { replayed: true, body: answer.body };
  return { replayed: answer.replayed === true, created: map(answer.body) };
}

/** The value of a creation made without an Idempotency-Key, which never replays. */
export function createdOf<T>(once: Once<T>): T {
  if (once.replayed || !("created" in once)) throw new Error("a creation without a key replayed");
  return once.created;
}
