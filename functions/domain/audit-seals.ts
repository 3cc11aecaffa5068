/**
 * Audit seals: tamper evidence for the audit log. The triggers keep every client from changing
 * an audit event, but a superuser can switch them off; a seal fingerprints the events of a
 * range no transaction can still add to and chains a digest to the previous seal, so that a
 * change made behind the triggers' back shows up when the chain is recomputed. The work is done
 * by the SQL functions `regent_seal_audit` and `regent_verify_audit`; these are their typed
 * doors, shared by the worker (which seals after each invocation) and the CLI.
 */
import { sql } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import { type Db, type Executor, rowsOf } from "../../db/types";

/** A seal as the caller needs it; the per-event ids and fingerprints stay in the database. */
export interface AuditSealSummary {
  id: number;
  /** The seal covers the event ids in (fromEventId, toEventId]. */
  fromEventId: number;
  toEventId: number;
  /** Events present in the range (ids of rolled-back inserts leave gaps). */
  eventCount: number;
  /** SHA-256, hex, of the previous seal's digest and this range's events: the chain's head. */
  digest: string;
  prevDigest: string;
  /** The next seal covers events up to this id, once the transactions open now have ended. */
  nextWatermarkId: number;
  sealedBy: string;
  sealedAt: Date;
}

/** What happened to an event behind a seal's back, or to a seal itself. */
export type AuditProblem = "changed" | "removed" | "added" | "seal chain broken";

export type AuditVerification =
  | {
      ok: true;
      seals: number;
      /** Events inside sealed ranges, each as it was sealed. */
      events: number;
      /** Events after the last seal: not yet covered, which is no problem, only not proven. */
      unsealed: number;
      /** The last seal: its digest, recorded elsewhere, pins everything up to it. */
      head: AuditSealSummary | undefined;
    }
  | {
      ok: false;
      sealId: number;
      /** Undefined when the seal itself was altered ("seal chain broken"). */
      eventId: number | undefined;
      problem: AuditProblem;
    };

/** Why a seal attempt sealed nothing, for the operator who asked. */
export type AuditSealLag =
  | { reason: "empty" }
  | { reason: "caught up"; head: AuditSealSummary }
  | {
      reason: "waiting";
      head: AuditSealSummary;
      /** Transactions below this xid were open at the last seal; one of them still is. */
      nextXmax: string;
      /** The oldest transaction on the server holding an xid, when this role may see it. */
      oldest:
        | { pid: number; database: string | null; state: string | null; since: Date | null }
        | undefined;
    };

const SUMMARY_COLUMNS = sql.raw(`id::text AS id, from_event_id::text AS from_event_id,
  to_event_id::text AS to_event_id, event_count, digest, prev_digest,
  next_watermark_id::text AS next_watermark_id, sealed_by, sealed_at`);

interface SummaryRow {
  id: string;
  from_event_id: string;
  to_event_id: string;
  event_count: number;
  digest: string;
  prev_digest: string;
  next_watermark_id: string;
  sealed_by: string;
  sealed_at: Date | string;
}

function summaryOf(row: SummaryRow): AuditSealSummary {
  return {
    id: Number(row.id),
    fromEventId: Number(row.from_event_id),
    toEventId: Number(row.to_event_id),
    eventCount: Number(row.event_count),
    digest: row.digest,
    prevDigest: row.prev_digest,
    nextWatermarkId: Number(row.next_watermark_id),
    sealedBy: row.sealed_by,
    sealedAt: new Date(row.sealed_at),
  };
}

/**
 * Seals the events that became final since the last seal. Undefined when nothing new happened
 * or when a transaction that was open at the last seal is still open (anywhere on the server:
 * transaction ids are cluster-wide); the next attempt catches up, so callers just try again
 * later. A seal may cover no event: the first one, and one after an idle spell, only record
 * how far the next may go.
 *
 * Runs in a READ COMMITTED transaction of its own when given the database: the SQL function
 * refuses any other isolation, since a snapshot taken before its lock could fork the chain.
 * Given a transaction that has already written, it never seals: that transaction is itself
 * one the seal waits for.
 */
export async function sealAudit(
  db: Executor,
  sealedBy: string,
): Promise<AuditSealSummary | undefined> {
  const seal = (x: Executor) =>
    x.execute(sql`SELECT ${SUMMARY_COLUMNS} FROM regent_seal_audit(${sealedBy})`);
  const result =
    db instanceof PgTransaction
      ? await seal(db)
      : await (db as Db).transaction(seal, { isolationLevel: "read committed" });
  const row = rowsOf<SummaryRow>(result)[0];
  return row ? summaryOf(row) : undefined;
}

/**
 * Recomputes every seal from the audit events as they are now, in one snapshot, and names the
 * first problem in seal order. Reads every sealed event: meant for an operator or a scheduled
 * check, not for every request.
 */
export async function verifyAudit(db: Executor): Promise<AuditVerification> {
  const result = await db.execute(sql`
    WITH problem AS (SELECT seal_id, event_id, problem FROM regent_verify_audit() LIMIT 1),
    head AS (SELECT * FROM audit_seals ORDER BY id DESC LIMIT 1),
    counts AS (
      SELECT count(*) FILTER (WHERE e.id <= coalesce((SELECT to_event_id FROM head), 0))::float8 AS sealed,
             count(*) FILTER (WHERE e.id > coalesce((SELECT to_event_id FROM head), 0))::float8 AS unsealed
      FROM audit_events e)
    SELECT (SELECT count(*) FROM audit_seals)::float8 AS seals, counts.sealed, counts.unsealed,
           problem.seal_id::text AS problem_seal_id, problem.event_id::text AS problem_event_id,
           problem.problem,
           (SELECT row_to_json(h) FROM (SELECT ${SUMMARY_COLUMNS} FROM head) h) AS head
    FROM counts LEFT JOIN problem ON true`);
  const row = rowsOf<{
    seals: number;
    sealed: number;
    unsealed: number;
    problem_seal_id: string | null;
    problem_event_id: string | null;
    problem: AuditProblem | null;
    head: SummaryRow | string | null;
  }>(result)[0];
  if (!row) throw new Error("regent_verify_audit returned no row");
  if (row.problem && row.problem_seal_id) {
    return {
      ok: false,
      sealId: Number(row.problem_seal_id),
      eventId: row.problem_event_id === null ? undefined : Number(row.problem_event_id),
      problem: row.problem,
    };
  }
  const head = json(row.head);
  return {
    ok: true,
    seals: Number(row.seals),
    events: Number(row.sealed),
    unsealed: Number(row.unsealed),
    head: head ? summaryOf(head) : undefined,
  };
}

/**
 * Why `sealAudit` just sealed nothing: the log is empty, everything is sealed and nothing
 * happened since, or a transaction older than the last seal is still open. Read after the
 * attempt, so the answer may already have moved on; it explains, it does not decide.
 */
export async function auditSealLag(db: Executor): Promise<AuditSealLag> {
  const result = await db.execute(sql`
    WITH head AS (SELECT * FROM audit_seals ORDER BY id DESC LIMIT 1),
    oldest AS (
      SELECT pid, datname, state, xact_start FROM pg_stat_activity
      WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
      ORDER BY age(backend_xid) DESC LIMIT 1)
    SELECT (SELECT row_to_json(h) FROM (SELECT ${SUMMARY_COLUMNS} FROM head) h) AS head,
           (SELECT next_xmax::text FROM head) AS next_xmax,
           (SELECT to_event_id = next_watermark_id
                   AND next_watermark_id = (SELECT coalesce(max(id), 0) FROM audit_events)
            FROM head) AS caught_up,
           (SELECT row_to_json(o) FROM oldest o) AS oldest`);
  const row = rowsOf<{
    head: SummaryRow | string | null;
    next_xmax: string | null;
    caught_up: boolean | null;
    oldest: OldestRow | string | null;
  }>(result)[0];
  const headRow = json(row?.head);
  if (!row || !headRow) return { reason: "empty" };
  const head = summaryOf(headRow);
  if (row.caught_up) return { reason: "caught up", head };
  const oldest = json(row.oldest);
  return {
    reason: "waiting",
    head,
    nextXmax: row.next_xmax ?? "",
    oldest: oldest
      ? {
          pid: oldest.pid,
          database: oldest.datname,
          state: oldest.state,
          since: oldest.xact_start ? new Date(oldest.xact_start) : null,
        }
      : undefined,
  };
}

interface OldestRow {
  pid: number;
  datname: string | null;
  state: string | null;
  xact_start: string | null;
}

/** A JSON column: parsed by node-postgres and PGlite, text from some drivers. */
function json<T>(value: T | string | null | undefined): T | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === "string" ? (JSON.parse(value) as T) : value;
}
