/**
 * How long an Idempotency-Key holds. A client retries a lost response within minutes; a day
 * covers that with room to spare, and past it the key's first response is not replayed:
 * the request runs as new. The keys table then stays about a day's worth of creations.
 */
import { sql } from "drizzle-orm";
import { type Executor, rowsOf } from "../../db/types";

export const IDEMPOTENCY_KEY_TTL_HOURS = 24;

/** The moment before which a stored key has expired, by the database's clock. */
export const idempotencyCutoff = sql`now() - make_interval(hours => ${IDEMPOTENCY_KEY_TTL_HOURS})`;

/**
 * Deletes up to `limit` expired keys, oldest first (by `idempotency_keys_created_idx`);
 * returns how many. Expired keys are never replayed anyway; this only keeps the table small.
 */
export async function pruneIdempotencyKeys(db: Executor, limit: number): Promise<number> {
  const result = await db.execute(sql`
    WITH old AS (
      DELETE FROM idempotency_keys
      WHERE (principal, key) IN (
        SELECT principal, key FROM idempotency_keys
        WHERE created_at <= ${idempotencyCutoff}
        ORDER BY created_at
        LIMIT ${limit}
      )
      RETURNING 1
    )
    SELECT count(*)::int AS n FROM old`);
  const [row] = rowsOf<{ n: number | string }>(result);
  return Number(row?.n ?? 0);
}
