/**
 * Stands in for the SST CLI where SST cannot run (tests give it as SST_BIN). It records its
 * arguments and how many migrations DATABASE_URL's database held at the moment it was called,
 * one JSON line per call in SST_STAND_IN_LOG, then exits with SST_STAND_IN_EXIT (default 0).
 */
import { appendFileSync } from "node:fs";
import pg from "pg";

async function appliedMigrations(url: string | undefined): Promise<number | null> {
  if (!url) return null;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations",
    );
    return rows[0]?.n ?? null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => {});
  }
}

const log = process.env.SST_STAND_IN_LOG;
if (!log) throw new Error("SST_STAND_IN_LOG is not set");
const call = {
  args: process.argv.slice(2),
  migrations: await appliedMigrations(process.env.DATABASE_URL),
};
appendFileSync(log, `${JSON.stringify(call)}\n`);
process.exit(Number(process.env.SST_STAND_IN_EXIT ?? 0));
