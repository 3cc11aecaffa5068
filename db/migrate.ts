import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { migrate as migrateNeon } from "drizzle-orm/neon-serverless/migrator";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { type GeneratorManifest, publishGenerators } from "./catalog";
import { applyCore } from "./core";
import type { PolicySettings } from "./policy";
import type { Database } from "./types";

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

/** Writes the policy row (regent_set_policy), audited as POLICY_CHANGED when it changes. */
export async function writePolicy(database: Database, policy: PolicySettings): Promise<void> {
  await database.db.execute(sql`SELECT regent_set_policy(${JSON.stringify(policy)}::jsonb)`);
}
