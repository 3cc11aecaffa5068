/**
 * The worker's housekeeping of the two tables that are not records: anonymous refusal counts
 * (kept 30 days) and idempotency keys (kept a day). Neither holds audit data, so pruning
 * removes nothing the audit log promises to keep.
 */
import type { Executor } from "../../db/types";
import { pruneAuthRefusals } from "./auth-refusals";
import { pruneIdempotencyKeys } from "./idempotency-keys";

/**
 * Rows each table loses per call at most: one short statement each, whatever the backlog.
 * An invocation runs every minute on Cloudflare (every few seconds under `npm start`), so up
 * to 60,000 expired rows an hour go; correctness never waits for it, since an expired key is
 * not replayed whether or not it is still there.
 */
export const PRUNE_BATCH = 1000;

/** One bounded pass over both tables; returns how many rows each lost. */
export async function pruneExpiredRecords(
  db: Executor,
  limit: number = PRUNE_BATCH,
): Promise<{ authRefusals: number; idempotencyKeys: number }> {
  return {
    authRefusals: await pruneAuthRefusals(db, limit),
    idempotencyKeys: await pruneIdempotencyKeys(db, limit),
  };
}
