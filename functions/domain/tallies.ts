/**
 * The database's counters (the `tallies` table): each statement that adds or moves a job or an
 * intent appends its changes there, and every count a page or a scrape shows is a sum over
 * those rows (functions/domain/signals.ts). Folding them into one row per key keeps that sum
 * short; the worker folds after each invocation, as it seals the audit log.
 */
import { sql } from "drizzle-orm";
import { type Executor, rowsOf } from "../../db/types";

/** Folds the counters' rows into one per key; answers how many rows it folded them into. */
export async function compactTallies(db: Executor): Promise<number> {
  const [row] = rowsOf<{ folded: number }>(
    await db.execute(sql`SELECT regent_compact_tallies() AS folded`),
  );
  return Number(row?.folded ?? 0);
}
