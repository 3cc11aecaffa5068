/**
 * `npm run worker -- --once`: one worker invocation, as the Cron trigger runs it — claim and
 * run jobs until nothing is claimable or WORKER_BUDGET_MS is spent — then print the counts and
 * exit 0. Without --once: invocations every WORKER_INTERVAL_MS until SIGINT or SIGTERM, and
 * at once whenever jobs are created: it LISTENs on PostgreSQL's `regent_job_created` channel,
 * which the statements creating jobs notify. The embedded database is migrated first; a
 * server's must be at this release's migration already (`npm run db:migrate`, as the tables'
 * owner), unless --migrate asks this process, run as that owner, to migrate it.
 */
import { parseArgs } from "node:util";
import { connect } from "../db/client";
import { JOB_CREATED_CHANNEL, listenForNotifications } from "../db/notifications";
import { loadWorkerConfig, WorkerConfigError } from "../functions/config/worker";
import { catalogOf } from "../functions/execution/generators";
import { invocationOptionsFrom, runWorkerInvocation } from "../functions/execution/invocation";
import { startWorkerLoop } from "../functions/execution/loop";
import { NotMigratedError, prepareDatabase } from "./database";

const USAGE = "usage: npm run worker -- [--once] [--migrate]";

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      once: { type: "boolean", default: false },
      migrate: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let config: ReturnType<typeof loadWorkerConfig>;
  try {
    config = loadWorkerConfig(process.env);
  } catch (error) {
    if (error instanceof WorkerConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const database = await connect({ url: config.databaseUrl });
  try {
    const options = invocationOptionsFrom(config);
    // The generators this worker runs go into the catalog before it claims anything.
    try {
      await prepareDatabase(database, {
        url: config.databaseUrl,
        migrate: values.migrate,
        generators: catalogOf(options.generators ?? new Map()),
        actor: "system:worker",
      });
    } catch (error) {
      if (!(error instanceof NotMigratedError)) throw error;
      console.error(error.message);
      return 1;
    }
    if (values.once) {
      const r = await runWorkerInvocation(database.db, options);
      console.log(
        `claimed ${r.claimed}, completed ${r.completed}, failed ${r.failed}, swept ${r.swept}` +
          ` in ${(r.durationMs / 1000).toFixed(2)} s (database: ${database.kind})`,
      );
      return 0;
    }
    const loop = startWorkerLoop(database.db, { ...options, intervalMs: config.intervalMs });
    // The embedded database admits no other process, so nothing else creates jobs in it.
    const listener = config.databaseUrl
      ? listenForNotifications(config.databaseUrl, JOB_CREATED_CHANNEL, () => loop.wake())
      : undefined;
    console.log(
      `worker running every ${config.intervalMs} ms${listener ? " and whenever jobs are created" : ""} (database: ${database.kind}); Ctrl-C stops it`,
    );
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await listener?.stop();
    await loop.stop();
    return 0;
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
