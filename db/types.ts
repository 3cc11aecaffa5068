import type { ExtractTablesWithRelations } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import type * as schema from "./schema";

export type Schema = typeof schema;

/** Any Regent database handle: PGlite, node-postgres or Neon. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/** A transaction on any of them. Functions that must run inside a unit of work take this. */
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

/** Either; most domain functions accept both. */
export type Executor = Db | Tx;

export type DriverKind = "pglite" | "node-postgres" | "neon" | "neon-http";

export interface Database {
  db: Db;
  kind: DriverKind;
  close(): Promise<void>;
}

/** Rows of `db.execute(sql…)`, whose shape differs by driver only in type. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
