/**
 * Signals: what an operator watches — jobs by status, failures by generator and error code,
 * retry intents and retry jobs by reason and outcome, how long the oldest pending job has
 * waited, and whether retries are surging. `/metrics`, `/api/admin/metrics`, the admin page and
 * the worker's alert digest all read them here, so that they never disagree about a number.
 * Nothing here writes.
 */
import { type SQL, sql } from "drizzle-orm";
import {
  type JobStatus,
  jobStatus,
  type RetryIntentStatus,
  type RetryReasonCode,
  retryIntentStatus,
  retryReasonCode,
} from "../../db/schema";
import { type Executor, rowsOf } from "../../db/types";
import type { SurgeConfig } from "../config/signals";

/** A retry job's state, as the metrics name it. */
export type RetryOutcome = "pending" | "running" | "completed" | "failed";
export const RETRY_OUTCOMES: readonly RetryOutcome[] = [
  "pending",
  "running",
  "completed",
  "failed",
];

export interface FailureCount {
  generator: string;
  errorCode: string;
  count: number;
}

/**
 * The generator label of failures whose generator is not in the catalog (jobs submitted before
 * there was one): counted together, so that made-up names cannot add a series each.
 */
export const UNCATALOGUED = "(uncatalogued)";

export interface SignalTotals {
  /** Every status, zero included. */
  jobs: Record<JobStatus, number>;
  /**
   * FAILED jobs by generator and error code; only pairs that occur. Generators the catalog does
   * not hold are counted as UNCATALOGUED.
   */
  failures: FailureCount[];
  /** Each generator of the catalog, by name, and whether it is paused. */
  generators: { name: string; paused: boolean }[];
  /** Every status and reason code, zero included. */
  retryIntents: { status: RetryIntentStatus; reasonCode: RetryReasonCode; count: number }[];
  /** Retry jobs by their intent's reason code and their own state, zero included. */
  retryJobs: { reasonCode: RetryReasonCode; outcome: RetryOutcome; count: number }[];
  /** Jobs that superseded a COMPLETED one, likewise, zero included: counted apart from retries. */
  supersessionJobs: { reasonCode: RetryReasonCode; outcome: RetryOutcome; count: number }[];
  /** 0 when no job is pending. */
  oldestPendingJobAgeSeconds: number;
}

/** `now` as the database should read it: the given instant, or its own clock. */
function instant(now: Date | undefined): SQL {
  return now ? sql`${now.toISOString()}::timestamptz` : sql`statement_timestamp()`;
}

/**
 * All totals in one statement, so that they come from one snapshot and one round trip. Jobs,
 * failures, intents, retries and supersessions are read from the database's counters
 * (`tallies`, kept by triggers in the same transaction as the rows they count), so the
 * statement sums a few hundred rows whatever the history holds; the oldest pending job is the
 * first entry of regeneration_jobs_pending_idx.
 */
export async function readSignalTotals(db: Executor, now?: Date): Promise<SignalTotals> {
  return totalsOf(rowsOf<TotalsRow>(await db.execute(totalsQuery(instant(now)))));
}

interface TotalsRow {
  family: string;
  a: string | null;
  b: string | null;
  c: string | null;
  n: number | string;
}

function totalsQuery(at: SQL): SQL {
  return sql`
    SELECT 'jobs' AS family, t.status AS a,
           CASE WHEN t.status <> 'FAILED' THEN NULL
                WHEN t.generator = ANY (ARRAY(SELECT name FROM generators)) THEN t.generator
                ELSE ${UNCATALOGUED} END AS b,
           CASE WHEN t.status = 'FAILED' THEN t.code END AS c,
           sum(t.count)::float8 AS n
    FROM tallies t WHERE t.subject = 'job' GROUP BY 2, 3, 4 HAVING sum(t.count) <> 0
    UNION ALL
    SELECT 'intents', t.status, t.reason, NULL, sum(t.count)::float8
    FROM tallies t WHERE t.subject = 'intent' GROUP BY 2, 3
    UNION ALL
    SELECT CASE t.kind WHEN 'SUPERSEDE' THEN 'supersessions' ELSE 'retries' END,
           t.reason, t.status, NULL, sum(t.count)::float8
    FROM tallies t WHERE t.subject = 'job' AND t.kind <> '' GROUP BY 1, 2, 3
    UNION ALL
    SELECT 'generators', name, NULL, NULL, (paused_at IS NOT NULL)::int::float8 FROM generators
    UNION ALL
    SELECT 'oldest', NULL, NULL, NULL,
           coalesce(greatest(0, extract(epoch FROM ${at} - min(created_at)))::float8, 0)
    FROM regeneration_jobs WHERE status = 'PENDING'`;
}

function totalsOf(rows: TotalsRow[]): SignalTotals {
  const jobs = Object.fromEntries(jobStatus.enumValues.map((s) => [s, 0])) as Record<
    JobStatus,
    number
  >;
  const intents = new Map<string, number>();
  const retries = new Map<string, number>();
  const supersessions = new Map<string, number>();
  const failures: FailureCount[] = [];
  const generators: { name: string; paused: boolean }[] = [];
  let oldestPendingJobAgeSeconds = 0;
  for (const row of rows) {
    const n = Number(row.n);
    if (row.family === "jobs") {
      jobs[row.a as JobStatus] += n;
      if (row.a === "FAILED") {
        failures.push({ generator: row.b ?? "", errorCode: row.c ?? "", count: n });
      }
    } else if (row.family === "intents") intents.set(`${row.a} ${row.b}`, n);
    else if (row.family === "retries") retries.set(`${row.a} ${row.b?.toLowerCase()}`, n);
    else if (row.family === "supersessions") {
      supersessions.set(`${row.a} ${row.b?.toLowerCase()}`, n);
    } else if (row.family === "generators") generators.push({ name: row.a ?? "", paused: n > 0 });
    else if (row.family === "oldest") oldestPendingJobAgeSeconds = Math.round(n * 1000) / 1000;
  }
  failures.sort(
    (x, y) =>
      y.count - x.count ||
      x.generator.localeCompare(y.generator) ||
      x.errorCode.localeCompare(y.errorCode),
  );
  generators.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return {
    jobs,
    failures,
    generators,
    retryIntents: retryIntentStatus.enumValues.flatMap((status) =>
      retryReasonCode.enumValues.map((reasonCode) => ({
        status,
        reasonCode,
        count: intents.get(`${status} ${reasonCode}`) ?? 0,
      })),
    ),
    retryJobs: byReasonAndOutcome(retries),
    supersessionJobs: byReasonAndOutcome(supersessions),
    oldestPendingJobAgeSeconds,
  };
}

function byReasonAndOutcome(counts: Map<string, number>) {
  return retryReasonCode.enumValues.flatMap((reasonCode) =>
    RETRY_OUTCOMES.map((outcome) => ({
      reasonCode,
      outcome,
      count: counts.get(`${reasonCode} ${outcome}`) ?? 0,
    })),
  );
}

/** A retry job, not a supersession: what the surge rule and the hourly retries count. */
const IS_RETRY = sql`NOT EXISTS (SELECT 1 FROM retry_intents si
                                 WHERE si.id = regeneration_jobs.retry_intent_id AND si.kind = 'SUPERSEDE')`;

export interface Surge {
  /** Retry jobs created in the hour before now. */
  lastHour: number;
  /**
   * Retry jobs created in the 24 hours before that hour, divided by 24; null when it was not
   * needed (the last hour stayed below the minimum, so there is no surge whatever it is).
   */
  trailingHourlyMean: number | null;
  factor: number;
  min: number;
  surging: boolean;
  /**
   * While it surges: the batch whose execution created more than half of the last hour's
   * retries, so that the warning can say the surge is an admin's own recovery. Absent otherwise.
   */
  fromBatch?: SurgeBatch;
}

/** A batch's share of the last hour's retries: `retries` of them, created when `executedBy` executed it. */
export interface SurgeBatch {
  id: string;
  executedBy: string;
  retries: number;
}

/**
 * The surge rule: retries created in the last hour exceed `factor` times the trailing 24-hour
 * hourly mean, and are at least `min`. The minimum keeps a quiet system from surging on its
 * second retry of the day.
 */
export function surgeOf(
  lastHour: number,
  trailing24Hours: number | null,
  config: SurgeConfig,
): Surge {
  const trailingHourlyMean = trailing24Hours === null ? null : trailing24Hours / 24;
  const surging =
    lastHour >= config.min &&
    trailingHourlyMean !== null &&
    lastHour > config.factor * trailingHourlyMean;
  return { lastHour, trailingHourlyMean, factor: config.factor, min: config.min, surging };
}

/**
 * Whether retries surge at `now` (default: the database's clock), in one small statement: the
 * worker asks it each invocation, and every admin page asks it for its banner as part of the
 * statement that proves the page's caller (`surgeQuery` in pageContextSql).
 *
 * The hours are (now − 1 h, now] and (now − 25 h, now − 1 h]. The trailing count is an InitPlan
 * PostgreSQL runs only when the last hour reached the minimum, which it rarely does. Both read
 * regeneration_jobs_successors_created_idx, which holds only jobs an intent made, over the
 * window alone: the cost follows the retries of the last 25 hours, not the history's.
 */
export async function readSurge(db: Executor, config: SurgeConfig, now?: Date): Promise<Surge> {
  const [row] = rowsOf<SurgeRow>(await db.execute(surgeQuery(config, instant(now))));
  return surgeFrom(row, config);
}

/**
 * One row: `last_hour`, and when the last hour reached the minimum `trailing` and `batch`, the
 * batch (and who executed it) that created the most of the last hour's retries, if any did.
 */
export interface SurgeRow {
  last_hour: number | string;
  trailing: number | string | null;
  batch?: SurgeBatch | null;
}

/**
 * readSurge's statement, for a read that asks it beside other things (the admin page's). The
 * batch is found, like the trailing count, only when the last hour reached the minimum: the
 * last hour's retries grouped by the batch of their intent and by who executed it (the job's
 * creator), read through the same index.
 */
export function surgeQuery(config: SurgeConfig, at: SQL = sql`statement_timestamp()`): SQL {
  return sql`
    WITH last_hour AS (
      SELECT count(*)::int AS n FROM regeneration_jobs
      WHERE retry_intent_id IS NOT NULL AND ${IS_RETRY}
        AND created_at > ${at} - interval '1 hour' AND created_at <= ${at}
    )
    SELECT n AS last_hour,
           CASE WHEN n >= ${config.min} THEN (
             SELECT count(*)::int FROM regeneration_jobs
             WHERE retry_intent_id IS NOT NULL AND ${IS_RETRY}
               AND created_at > ${at} - interval '25 hours' AND created_at <= ${at} - interval '1 hour'
           ) END AS trailing,
           CASE WHEN n >= ${config.min} THEN (
             SELECT jsonb_build_object('id', i.batch_id, 'executedBy', r.created_by, 'retries', count(*))
             FROM regeneration_jobs r JOIN retry_intents i ON i.id = r.retry_intent_id
             WHERE r.retry_intent_id IS NOT NULL AND i.kind = 'RETRY' AND i.batch_id IS NOT NULL
               AND r.created_at > ${at} - interval '1 hour' AND r.created_at <= ${at}
             GROUP BY i.batch_id, r.created_by
             ORDER BY count(*) DESC, i.batch_id
             LIMIT 1
           ) END AS batch
    FROM last_hour`;
}

export function surgeFrom(row: SurgeRow | undefined, config: SurgeConfig): Surge {
  const surge = surgeOf(
    Number(row?.last_hour ?? 0),
    row?.trailing == null ? null : Number(row.trailing),
    config,
  );
  const batch = row?.batch;
  // "Mostly": more than half of the hour's retries came from the one execution.
  if (!surge.surging || !batch || Number(batch.retries) * 2 <= surge.lastHour) return surge;
  return { ...surge, fromBatch: { ...batch, retries: Number(batch.retries) } };
}

export interface HourCounts {
  /** The hour is (start, end]. */
  start: Date;
  end: Date;
  /** Jobs that FAILED in this hour (by finished_at). */
  failures: number;
  /** Retry jobs created in this hour. */
  retries: number;
}

export interface HourlySignals {
  /** The instant the hours end at. */
  at: Date;
  /** The last 24 hours, oldest first; the last entry is the hour before `at`. */
  hours: HourCounts[];
  /** The surge rule over the same counts, its trailing mean always computed. */
  surge: Surge;
}

/**
 * Failures and retries for each of the 24 hours before `now` (default: the database's clock),
 * plus the hour before those for the surge's trailing mean, in one statement. Failures come from
 * regeneration_jobs_failed_idx (finished_at of FAILED jobs), retries as in readSurge: both read
 * only rows of the window.
 */
export async function readHourlySignals(
  db: Executor,
  config: SurgeConfig,
  now?: Date,
): Promise<HourlySignals> {
  const rows = rowsOf<HourRow>(await db.execute(hourlyQuery(instant(now))));
  return hourlyOf(rows, config, now);
}

interface HourRow {
  kind: string;
  ago: number;
  n: number;
  at: string | Date | null;
}

function hourlyQuery(at: SQL): SQL {
  return sql`
    SELECT 'at' AS kind, 0 AS ago, 0 AS n, ${at} AS at
    UNION ALL
    SELECT 'retries', floor(extract(epoch FROM ${at} - created_at) / 3600)::int, count(*)::int, NULL
    FROM regeneration_jobs
    WHERE retry_intent_id IS NOT NULL AND ${IS_RETRY}
      AND created_at > ${at} - interval '25 hours' AND created_at <= ${at}
    GROUP BY 2
    UNION ALL
    SELECT 'failures', floor(extract(epoch FROM ${at} - finished_at) / 3600)::int, count(*)::int, NULL
    FROM regeneration_jobs
    WHERE status = 'FAILED' AND finished_at > ${at} - interval '24 hours' AND finished_at <= ${at}
    GROUP BY 2`;
}

function hourlyOf(rows: HourRow[], config: SurgeConfig, now: Date | undefined): HourlySignals {
  const atRow = rows.find((row) => row.kind === "at");
  const end = now ?? new Date(atRow?.at ?? Date.now());
  const failures = new Array<number>(24).fill(0);
  const retries = new Array<number>(25).fill(0);
  for (const row of rows) {
    const ago = Number(row.ago);
    if (row.kind === "failures" && ago >= 0 && ago < 24) failures[ago] = Number(row.n);
    if (row.kind === "retries" && ago >= 0 && ago < 25) retries[ago] = Number(row.n);
  }
  const HOUR = 3_600_000;
  const hours = Array.from({ length: 24 }, (_, i) => {
    const ago = 23 - i;
    return {
      start: new Date(end.getTime() - (ago + 1) * HOUR),
      end: new Date(end.getTime() - ago * HOUR),
      failures: failures[ago] ?? 0,
      retries: retries[ago] ?? 0,
    };
  });
  const trailing = retries.slice(1).reduce((sum, n) => sum + n, 0);
  return { at: end, hours, surge: surgeOf(retries[0] ?? 0, trailing, config) };
}

/**
 * The totals and the hourly counts together, in one statement (one snapshot, one instant): what
 * the signals page, `/api/admin/metrics` and `/metrics` show. Each part as its own reader costs.
 */
export async function readSignals(
  db: Executor,
  config: SurgeConfig,
  now?: Date,
): Promise<{ totals: SignalTotals; hourly: HourlySignals }> {
  const at = instant(now);
  const result = await db.execute(sql`
    SELECT (SELECT coalesce(jsonb_agg(t), '[]'::jsonb) FROM (${totalsQuery(at)}) t) AS totals,
           (SELECT coalesce(jsonb_agg(h), '[]'::jsonb) FROM (${hourlyQuery(at)}) h) AS hourly`);
  const [row] = rowsOf<{ totals: TotalsRow[]; hourly: HourRow[] }>(result);
  return {
    totals: totalsOf(row?.totals ?? []),
    hourly: hourlyOf(row?.hourly ?? [], config, now),
  };
}
