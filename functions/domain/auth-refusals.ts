/**
 * Refused requests that proved no identity. Anyone can send those, as many as they like, so
 * they are counted rather than audited: one row per hour, address and reason, however many
 * requests, and rows older than 30 days are pruned. Refusals of a known principal stay in the
 * audit log (AUTH_DENIED, SIGN_IN_FAILED), where they say who.
 */
import { sql } from "drizzle-orm";
import type { Executor } from "../../db/types";
import { rowsOf } from "../../db/types";

/** How long the counts are kept: long enough to look back over a month's incidents. */
export const AUTH_REFUSAL_RETENTION_DAYS = 30;

const PATH_MAX = 300;

export interface AuthRefusal {
  /** The runtime's client address; null when it cannot know (counted as `unknown`). */
  ip: string | null;
  /** Why, with how it was presented: `missing`, `token:unknown`, `access:expired`, `admin-login:unknown`… */
  reason: string;
  path: string;
}

/**
 * A request's path as PostgreSQL text can hold it: the path may carry a NUL or an unpaired
 * surrogate (`/api/jobs/%00`), which text refuses; the refusal is recorded all the same.
 */
export function storablePath(path: string): string {
  return path.slice(0, PATH_MAX).replace(UNSTORABLE, "?");
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is replaced
const UNSTORABLE = /[\u0000\p{Cs}]/gu;

/** Counts one refusal: a single upsert, so a flood of them touches one row per hour. */
export async function recordAuthRefusal(db: Executor, refusal: AuthRefusal): Promise<void> {
  await db.execute(sql`
    INSERT INTO auth_refusals (hour, ip, reason, count, last_path, last_seen_at)
    VALUES (date_trunc('hour', now(), 'UTC'), ${refusal.ip ?? "unknown"}, ${refusal.reason}, 1,
            ${storablePath(refusal.path)}, now())
    ON CONFLICT (hour, ip, reason) DO UPDATE
      SET count = auth_refusals.count + 1,
          last_path = excluded.last_path,
          last_seen_at = excluded.last_seen_at`);
}

/**
 * Deletes up to `limit` hours' counts older than the retention, oldest first, by the primary
 * key's leading column; returns how many. What is left goes at the next call.
 */
export async function pruneAuthRefusals(db: Executor, limit: number): Promise<number> {
  const result = await db.execute(sql`
    WITH old AS (
      DELETE FROM auth_refusals
      WHERE (hour, ip, reason) IN (
        SELECT hour, ip, reason FROM auth_refusals
        WHERE hour < now() - make_interval(days => ${AUTH_REFUSAL_RETENTION_DAYS})
        ORDER BY hour
        LIMIT ${limit}
      )
      RETURNING 1
    )
    SELECT count(*)::int AS n FROM old`);
  const [row] = rowsOf<{ n: number | string }>(result);
  return Number(row?.n ?? 0);
}
