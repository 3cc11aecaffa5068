import { fileURLToPath } from "node:url";
import { migrate as migrateNeon } from "drizzle-orm/neon-serverless/migrator";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { connect } from "./client";
import type { Database } from "./types";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("./migrations", import.meta.url));

/** Applies the migrations not yet applied; running it again is a no-op. */
export async function migrate(database: Database): Promise<void> {
  const config = { migrationsFolder: MIGRATIONS_FOLDER };
  // biome-ignore lint/suspicious/noExplicitAny: each migrator wants its own driver's type
  const db = database.db as any;
  if (database.kind === "pglite") await migratePglite(db, config);
  else if (database.kind === "neon") await migrateNeon(db, config);
  else await migratePg(db, config);
}

async function main() {
  const database = await connect({ url: process.env.DATABASE_URL });
  try {
    await migrate(database);
    console.log(`migrations applied (${database.kind})`);
  } finally {
    await database.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(`migration failed: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  });
}
