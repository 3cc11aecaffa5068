import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { connect } from "../../db/client";
import { migrate } from "../../db/migrate";
import { pgErrorOf } from "../../functions/domain/errors";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { builtInCatalog } from "../../functions/execution/generators";
import { serverUrl } from "../helpers/db";
import { admin, failedJob } from "../helpers/fixtures";

const run = promisify(execFile);

async function emptyDatabase(): Promise<string> {
  const name = `${inject("pgRunPrefix")}_empty_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: inject("pgAdminUrl") });
  await client.connect();
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  return serverUrl(name);
}

describe("migrations", () => {
  it("npm run db:migrate applies to a fresh database, and a second run changes nothing", async () => {
    const url = await emptyDatabase();
    const env = { ...process.env, DATABASE_URL: url };
    const first = await run("npm", ["run", "--silent", "db:migrate"], { env });
    expect(first.stdout).toMatch(/migrations applied \(node-postgres\)/);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const schema = async () =>
      (
        await client.query(`SELECT string_agg(x, ',' ORDER BY x) AS s FROM (
          SELECT 'table:' || table_name AS x FROM information_schema.tables WHERE table_schema = 'public'
          UNION ALL SELECT 'trigger:' || tgname FROM pg_trigger WHERE NOT tgisinternal
          UNION ALL SELECT 'migration:' || hash FROM drizzle.__drizzle_migrations) q`)
      ).rows[0].s as string;
    const afterFirst = await schema();
    expect(afterFirst).toContain("trigger:regeneration_outputs_insert_only");
    expect(afterFirst).toContain("table:retry_intents");
    const second = await run("npm", ["run", "--silent", "db:migrate"], { env });
    expect(second.stdout).toMatch(/migrations applied/);
    expect(await schema()).toBe(afterFirst);
    await client.end();
  });

  it("db:migrate refuses a DATABASE_URL that is not PostgreSQL, with a clear message", async () => {
    const error = await run("npm", ["run", "--silent", "db:migrate"], {
      env: { ...process.env, DATABASE_URL: "mysql://localhost/x" },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toMatch(/DATABASE_URL: must be a postgres:\/\//);
  });

  it("the embedded PGlite database gets the same schema and enforces the same invariants", async () => {
    const database = await connect({ dataDir: "memory://" });
    try {
      expect(database.kind).toBe("pglite");
      await migrate(database, { generators: builtInCatalog() });
      await migrate(database, { generators: builtInCatalog() });
      const job = await failedJob(database.db);
      const intent = await createRetryIntent(database.db, admin, {
        sourceJobId: job.id,
        reasonCode: "OTHER",
        reasonText: "embedded",
      });
      const { job: retry } = await createRetryJobFromIntent(database.db, admin, intent.id);
      expect(retry.retryOfJobId).toBe(job.id);
      await expect(createRetryJobFromIntent(database.db, admin, intent.id)).rejects.toMatchObject({
        code: "INTENT_NOT_PENDING",
      });
      const refused = await database.db
        .execute(sql`DELETE FROM audit_events`)
        .catch((e: unknown) => e);
      expect(pgErrorOf(refused)).toMatchObject({
        code: "RG001",
        message: expect.stringMatching(/insert-only/),
      });
    } finally {
      await database.close();
    }
  });
});
