import { PgTransaction } from "drizzle-orm/pg-core";
import type { Executor, Tx } from "../../db/types";

/**
 * Runs `work` as one unit of work. Given a transaction, it joins it, so a caller that combines
 * several domain steps (an idempotency key stored with the job it created) owns the one
 * transaction they all commit in; given the database, it opens a transaction of its own.
 * Joining costs nothing, where a nested `tx.transaction()` would add a savepoint round trip.
 */
export function inTransaction<T>(db: Executor, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db instanceof PgTransaction ? work(db as Tx) : db.transaction(work);
}
