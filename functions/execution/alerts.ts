/**
 * The worker's alert digest: at the end of an invocation, one signed JSON POST to
 * ALERT_WEBHOOK_URL telling what is new since the last digest — failures by generator and error
 * code, and a surge of retries starting or ending. Only fetch and Web Crypto, so that the Cron
 * Worker sends it as `npm start` does.
 */
import { sql } from "drizzle-orm";
import { type Executor, rowsOf } from "../../db/types";
import type { SurgeConfig } from "../config/signals";
import { recordAudit } from "../domain/audit";
import { newId } from "../domain/ids";
import { readSurge, type Surge } from "../domain/signals";
import { inTransaction } from "../domain/unit-of-work";
import { describeError } from "./job-failure";

export interface AlertSettings {
  url: string;
  /** Signs each digest: `Regent-Signature: sha256=<hex HMAC-SHA256 of the body>`. */
  secret: string;
  surge: SurgeConfig;
  /** Longest wait for the receiver's whole answer; default 5 s. */
  timeoutMs?: number;
  /**
   * Longest wait for the transactions that were running when the digest read the newest event
   * to end, so that no failure they commit is passed over; default 2 s. Past it, the digest
   * holds back the new failures for the next one.
   */
  finalWaitMs?: number;
}

export type AlertOutcome =
  | { status: "sent"; digestId: string; failures: number; surge: "started" | "ended" | null }
  /** Nothing new to say, so nothing was sent. */
  | { status: "quiet" }
  /** Another worker is sending a digest right now; what is left goes with the next one. */
  | { status: "busy" }
  /** Nothing was recorded: the next invocation sends all of it again, with what came since. */
  | { status: "failed"; error: string };

export const DEFAULT_ALERT_TIMEOUT_MS = 5000;

/** Failure groups a digest lists by name; the rest are counted in `omittedGroups`. */
const MAX_GROUPS = 100;

export interface AlertDigest {
  type: "regent.alert-digest";
  /** Also the subject of its ALERT_SENT event. */
  id: string;
  /** When it was made: a receiver refuses a digest much older than its own clock (a replay). */
  sentAt: string;
  sender: string;
  failures: {
    total: number;
    /** The JOB_FAILED events counted are those with afterEventId < id ≤ throughEventId. */
    afterEventId: number;
    throughEventId: number;
    byGeneratorAndCode: { generator: string; errorCode: string; count: number }[];
    omittedGroups: number;
  };
  surge: {
    surging: boolean;
    /** Surging now, and not at the last digest. */
    started: boolean;
    /** Not surging now, and surging at the last digest. */
    ended: boolean;
    lastHour: number;
    trailingHourlyMean: number | null;
    factor: number;
    min: number;
  };
}

const encoder = new TextEncoder();

/** Lower-case hex HMAC-SHA256 of `body` under `secret`, as `Regent-Signature` carries it. */
export async function signDigest(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

interface LastDigest {
  throughEventId: number;
  surging: boolean;
}

/**
 * Makes, sends and records at most one digest. All of it happens in one transaction holding a
 * transaction-level advisory lock, so two workers never send the same digest: the second one to
 * arrive finds the lock taken and leaves (`busy`). ALERT_SENT, whose data holds the new
 * high-water mark, commits only after the receiver answered 2xx; a refusal, a timeout or an
 * unreachable receiver rolls everything back, and the next digest covers it all again.
 *
 * One duplicate remains possible: the receiver took the digest, then this process died (or lost
 * its database) before the commit. The next digest then repeats those failures; it has the same
 * `afterEventId`, by which a receiver can tell. While it waits for the receiver the transaction
 * holds one connection, and on the embedded database (one connection for everything) every
 * other statement waits too: at most `timeoutMs`.
 *
 * Never throws: whatever goes wrong is the outcome `failed`.
 */
export async function sendAlertDigest(
  db: Executor,
  settings: AlertSettings,
  sender: string,
): Promise<AlertOutcome> {
  try {
    return await inTransaction(db, async (tx) => {
      const [lock] = rowsOf<{ held: boolean }>(
        await tx.execute(
          sql`SELECT pg_try_advisory_xact_lock(hashtextextended('regent.alert-digest', 0)) AS held`,
        ),
      );
      if (!lock?.held) return { status: "busy" } as const;

      const last = await lastDigest(tx);
      const through = await finalThrough(tx, settings.finalWaitMs ?? 2000);
      const failures =
        through === undefined
          ? { total: 0, throughEventId: last.throughEventId, groups: [] }
          : await failuresAfter(tx, last.throughEventId, through);
      const surge = await readSurge(tx, settings.surge);
      const started = surge.surging && !last.surging;
      const ended = !surge.surging && last.surging;
      if (failures.total === 0 && !started && !ended) return { status: "quiet" } as const;

      const digest = digestOf(newId(), sender, last.throughEventId, failures, surge, {
        started,
        ended,
      });
      const status = await deliver(settings, JSON.stringify(digest));
      await recordAudit(tx, { actor: sender }, [
        {
          type: "ALERT_SENT",
          subjectType: "alert",
          subjectId: digest.id,
          data: {
            afterEventId: digest.failures.afterEventId,
            throughEventId: digest.failures.throughEventId,
            failures: digest.failures.total,
            surging: surge.surging,
            ...(started ? { surgeStarted: true } : {}),
            ...(ended ? { surgeEnded: true } : {}),
            receiverStatus: status,
            sentAt: digest.sentAt,
          },
        },
      ]);
      return {
        status: "sent",
        digestId: digest.id,
        failures: failures.total,
        surge: started ? "started" : ended ? "ended" : null,
      } as const;
    });
  } catch (error) {
    // PostgreSQL's own words for a database error, never the statement Drizzle quotes.
    return { status: "failed", error: describeError(error) };
  }
}

/**
 * The newest event id below which every event is final: no transaction still running can commit
 * one. Event ids are taken in order but committed in any order, so a transaction still open
 * when the digest read id N may yet commit a failure below N; a mark past it would skip that
 * failure for good. As the audit seals do (regent_seal_audit), the id read is final once every
 * transaction running then has ended: once the oldest running transaction is at or past the
 * snapshot's xmax. Waits for that up to `waitMs` (the usual wait is none, or a few ms), else
 * undefined: the digest holds the new failures back for the next one.
 */
async function finalThrough(tx: Executor, waitMs: number): Promise<number | undefined> {
  const [read] = rowsOf<{ newest: string | number; xmax: string }>(
    await tx.execute(sql`
      SELECT coalesce(max(id), 0) AS newest, pg_snapshot_xmax(pg_current_snapshot())::text AS xmax
      FROM audit_events`),
  );
  if (!read) return undefined;
  const deadline = Date.now() + waitMs;
  for (;;) {
    // READ COMMITTED: each statement sees the transactions running now.
    const [now] = rowsOf<{ final: boolean }>(
      await tx.execute(
        sql`SELECT pg_snapshot_xmin(pg_current_snapshot()) >= ${read.xmax}::xid8 AS final`,
      ),
    );
    if (now?.final) return Number(read.newest);
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The newest ALERT_SENT: the end of audit_events_type_idx, one index probe. */
async function lastDigest(tx: Executor): Promise<LastDigest> {
  const [row] = rowsOf<{ data: Record<string, unknown> }>(
    await tx.execute(sql`
      SELECT data FROM audit_events WHERE type = 'ALERT_SENT' ORDER BY id DESC LIMIT 1`),
  );
  return {
    throughEventId: Number(row?.data.throughEventId ?? 0),
    surging: row?.data.surging === true,
  };
}

interface NewFailures {
  total: number;
  throughEventId: number;
  groups: { generator: string; errorCode: string; count: number }[];
}

/**
 * JOB_FAILED events after the mark, grouped by their job's generator and error code: a range of
 * audit_events by id and one primary-key probe of the job each, so the cost follows the
 * failures since the last digest, not the table. Measured with 2,100,000 events and 2,000,000
 * jobs: 500 new failures took 80 ms. The first digest ever counts every failure so far (100,000
 * there: 3.7 s, once, by a hash join over the jobs).
 */
async function failuresAfter(
  tx: Executor,
  afterEventId: number,
  throughEventId: number,
): Promise<NewFailures> {
  const rows = rowsOf<{ generator: string; error_code: string; n: number; through: string }>(
    await tx.execute(sql`
      SELECT j.generator, coalesce(j.error->>'code', e.data->>'code', '') AS error_code,
             count(*)::int AS n, max(e.id) AS through
      FROM audit_events e JOIN regeneration_jobs j ON j.id = e.subject_id
      WHERE e.type = 'JOB_FAILED' AND e.id > ${afterEventId} AND e.id <= ${throughEventId}
      GROUP BY 1, 2`),
  );
  const groups = rows
    .map((row) => ({ generator: row.generator, errorCode: row.error_code, count: Number(row.n) }))
    .sort(
      (a, b) =>
        b.count - a.count ||
        a.generator.localeCompare(b.generator) ||
        a.errorCode.localeCompare(b.errorCode),
    );
  return {
    total: groups.reduce((sum, group) => sum + group.count, 0),
    throughEventId: rows.reduce((max, row) => Math.max(max, Number(row.through)), afterEventId),
    groups,
  };
}

function digestOf(
  id: string,
  sender: string,
  afterEventId: number,
  failures: NewFailures,
  surge: Surge,
  change: { started: boolean; ended: boolean },
): AlertDigest {
  return {
    type: "regent.alert-digest",
    id,
    sentAt: new Date().toISOString(),
    sender,
    failures: {
      total: failures.total,
      afterEventId,
      throughEventId: failures.throughEventId,
      byGeneratorAndCode: failures.groups.slice(0, MAX_GROUPS),
      omittedGroups: Math.max(0, failures.groups.length - MAX_GROUPS),
    },
    surge: {
      surging: surge.surging,
      started: change.started,
      ended: change.ended,
      lastHour: surge.lastHour,
      trailingHourlyMean: surge.trailingHourlyMean,
      factor: surge.factor,
      min: surge.min,
    },
  };
}

/** The message of an error and of what caused it: undici says only "fetch failed" on top. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

/**
 * POSTs the signed body; resolves with the receiver's 2xx status, or throws. Redirects are not
 * followed: a signed digest goes only where it was configured to go.
 */
async function deliver(settings: AlertSettings, body: string): Promise<number> {
  const timeoutMs = settings.timeoutMs ?? DEFAULT_ALERT_TIMEOUT_MS;
  let response: Response;
  try {
    response = await fetch(settings.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "regent-signature": `sha256=${await signDigest(settings.secret, body)}`,
        "user-agent": "regent-alerts",
      },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof Error && error.name === "TimeoutError";
    throw new Error(
      timedOut
        ? `the alert receiver did not answer within ${timeoutMs} ms`
        : `the alert receiver could not be reached: ${reasonOf(error)}`,
    );
  }
  await response.body?.cancel().catch(() => {});
  if (response.status < 200 || response.status > 299) {
    throw new Error(`the alert receiver answered ${response.status}`);
  }
  return response.status;
}
