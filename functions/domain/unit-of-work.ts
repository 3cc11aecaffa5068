import { PgTransaction } from "drizzle-orm/pg-core";
import type { Executor, Tx } from "../../db/types";

/**
 * Runs `work` as one unit of work. Given a transaction, it joins it, so a caller that combines
 * several domain steps owns the one transaction they all commit in; given the database, it
 * opens a transaction of its own. Joining costs nothing, where a nested `tx.transaction()` would
 * add a savepoint round trip. (The API's and the admin page's writes need none: each is one
 * statement calling its function in the database, see `units.ts`.)
 */
export function inTransaction<T>(db: Executor, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db instanceof PgTransaction ? work(db as Tx) : db.transaction(work);
}
