/**
 * `npm run db:migrate`: brings DATABASE_URL's database (or the embedded one) to the
 * repository's: migrations, the core's definitions, the policy from this environment
 * (RETRY_BUDGET, INTENT_TTL_HOURS, RETRY_BATCH_MAX, REQUIRE_DISTINCT_EXECUTOR), and the
 * built-in generators' catalog entries. Run it as the role that owns Regent's tables.
 */
import { connect } from "../db/client";
import { migrate } from "../db/migrate";
import { ConfigError, loadConfig } from "../functions/config/api";
import { builtInCatalog } from "../functions/execution/generators";

async function main(): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const database = await connect({ url: config.databaseUrl });
  try {
    await migrate(database, { policy: config.policy, generators: builtInCatalog() });
    console.log(`migrations applied (${database.kind})`);
    return 0;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`migration failed: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  },
);
