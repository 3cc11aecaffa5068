import pg from "pg";
import { afterAll, inject, onTestFinished } from "vitest";
import { connect } from "../../db/client";
import { migrate } from "../../db/migrate";
import type { PolicySettings } from "../../db/policy";
import type { Database } from "../../db/types";
import { loadConfig } from "../../functions/config/api";

export interface TestDatabase extends Database {
  url: string;
  name: string;
  /** A plain node-postgres client for raw SQL, as a second client or a human would type it. */
  raw: pg.Client;
}

let counter = 0;

export function serverUrl(database: string): string {
  const u = new URL(inject("pgAdminUrl"));
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates a new, migrated database (a copy of the run's template); closed after the file. */
export async function freshDatabase(options: { max?: number } = {}): Promise<TestDatabase> {
  const name = `${inject("pgRunPrefix")}_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: inject("pgAdminUrl") });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${inject("pgTemplate")}"`);
  } finally {
    await admin.end();
  }
  const url = serverUrl(name);
  const database = await connect({ url, max: options.max ?? 10 });
  // Nothing to migrate in a copy of the template; what a copy does not carry (the database's
  // own privileges: no TEMP for PUBLIC) is settled as a deploy settles it.
  await migrate(database);
  const raw = new pg.Client({ connectionString: url });
  await raw.connect();
  afterAll(async () => {
    await raw.end();
    await database.close();
  });
  return { ...database, url, name, raw };
}

/** The database's defaults, as a fresh database has them. */
export const DEFAULT_POLICY = {
  retryBudget: 3,
  intentTtlHours: 72,
  requireDistinctExecutor: false,
  retryBatchMax: 1000,
} satisfies PolicySettings;

/**
 * Writes the database's policy as the owner does at migrate time (regent_set_policy): the
 * units of work and guards read it from there, whatever a caller says.
 */
export async function setPolicy(t: { raw: pg.Client }, policy: PolicySettings): Promise<void> {
  await t.raw.query("SELECT regent_set_policy($1::jsonb)", [JSON.stringify(policy)]);
}

/**
 * Writes the policy variables of `env` (RETRY_BUDGET, INTENT_TTL_HOURS, RETRY_BATCH_MAX,
 * REQUIRE_DISTINCT_EXECUTOR; unset ones at their defaults) into the database, as a server's
 * start or a deploy does, for the rest of the test: the policy before it comes back after.
 */
export async function usePolicy(t: { raw: pg.Client }, env: Record<string, string>): Promise<void> {
  const { rows } = await t.raw.query(
    `SELECT retry_budget AS "retryBudget", intent_ttl_hours AS "intentTtlHours",
            require_distinct_executor AS "requireDistinctExecutor", retry_batch_max AS "retryBatchMax"
     FROM regent_policy`,
  );
  const before = rows[0] as PolicySettings;
  await setPolicy(t, loadConfig(env).policy);
  onTestFinished(() => setPolicy(t, before));
}

/**
 * Runs statements in one transaction on `client`; returns the error that stopped it (its
 * SQLSTATE in `code`), or undefined when it committed.
 */
export async function attempt(
  client: pg.Client,
  ...statements: string[]
): Promise<(Error & { code?: string }) | undefined> {
  await client.query("BEGIN");
  try {
    for (const statement of statements) await client.query(statement);
    await client.query("COMMIT");
    return undefined;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    return error as Error & { code?: string };
  }
}
