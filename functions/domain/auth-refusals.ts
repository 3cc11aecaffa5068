/**
 * Refused requests that proved no identity. Anyone can send those, as many as they like, so
 * they are counted rather than audited: one row per hour, address and reason, however many
 * requests, and rows older than 30 days are pruned (by the database's
 * regent_prune_auth_refusals). Refusals of a known principal stay in the
 * audit log (AUTH_DENIED, SIGN_IN_FAILED), where they say who.
 */
import { sql } from "drizzle-orm";
import type { Executor } from "../../db/types";
import { rowsOf } from "../../db/types";

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
 * Deletes up to `limit` hours' counts older than the retention, oldest first; returns how many.
 * Through the database's `regent_prune_auth_refusals`, which owns the retention: the
 * application role may not delete a count itself.
 */
export async function pruneAuthRefusals(db: Executor, limit: number): Promise<number> {
  const result = await db.execute(sql`SELECT regent_prune_auth_refusals(${limit}::integer) AS n`);
  const [row] = rowsOf<{ n: number | string }>(result);
  return Number(row?.n ?? 0);
}
