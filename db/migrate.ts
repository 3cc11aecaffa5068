import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { migrate as migrateNeon } from "drizzle-orm/neon-serverless/migrator";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { type GeneratorManifest, publishGenerators } from "./catalog";
import { applyCore, releaseDigest } from "./core";
import type { PolicySettings } from "./policy";
import { type Database, rowsOf } from "./types";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("./migrations", import.meta.url));

/**
 * Brings a database to the repository's: the migrations not yet applied (DDL and data moves),
 * then the core's definitions (db/functions/, skipped when unchanged), then, when given, the
 * policy from the configuration and the generators the workers of this release run (so that
 * the catalog is in place before the first job of a deployment is submitted). Running it again
 * changes nothing. Run as the role that owns Regent's tables.
 */
export async function migrate(
  database: Database,
  options: { policy?: PolicySettings; generators?: readonly GeneratorManifest[] } = {},
): Promise<void> {
  const config = { migrationsFolder: MIGRATIONS_FOLDER };
  // biome-ignore lint/suspicious/noExplicitAny: each migrator wants its own driver's type
  const db = database.db as any;
  if (database.kind === "pglite") await migratePglite(db, config);
  else if (database.kind === "neon") await migrateNeon(db, config);
  else await migratePg(db, config);
  await applyCore(database);
  if (options.policy) await writePolicy(database, options.policy);
  if (options.generators) {
    await publishGenerators(database.db, options.generators, "system:migrate");
  }
}

/**
 * Whether this release's `migrate` has run on the database: the last row of
 * `regent_core_applied` names this release's migrations and core (`releaseDigest`). Reads only,
 * so the application's role may ask it: processes that run as that role (`npm start` and
 * `npm run worker` on a server) never migrate, and refuse to start on a database that is not
 * ready rather than fail at their first statement.
 */
export async function isMigrated(database: Database): Promise<boolean> {
  try {
    const result = await database.db.execute(
      sql`SELECT digest FROM regent_core_applied ORDER BY id DESC LIMIT 1`,
    );
    const [row] = rowsOf<{ digest: string }>(result);
    return row?.digest === releaseDigest();
  } catch (error) {
    // A database never migrated has no such table.
    if (sqlStateOf(error) === "42P01") return false;
    throw error;
  }
}

function sqlStateOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Writes the policy row (regent_set_policy), audited as POLICY_CHANGED when it changes. */
export async function writePolicy(database: Database, policy: PolicySettings): Promise<void> {
  await database.db.execute(sql`SELECT regent_set_policy(${JSON.stringify(policy)}::jsonb)`);
}
