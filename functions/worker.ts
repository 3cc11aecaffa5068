/**
 * The claimer Worker: each scheduled event (the Cron) runs one worker invocation against the
 * database, over the Neon serverless driver (one WebSocket), and closes its pool when done. Each
 * invocation stays within what Cloudflare lets one invocation send and hold open
 * (./execution/subrequests.ts): it claims no more jobs than it has subrequests for. The API
 * Worker also wakes it right after creating jobs, through a Cloudflare Queue it consumes
 * (infra/wake.ts), so that they start without waiting for the next tick; the Worker has no URL.
 */
import { publishGenerators } from "../db/catalog";
import { connectNeon } from "../db/neon";
import type { Database } from "../db/types";
import { loadWorkerConfig, type WorkerEnv } from "./config/worker";
import { catalogOf } from "./execution/generators";
import {
  type InvocationOptions,
  invocationOptionsFrom,
  runWorkerInvocation,
} from "./execution/invocation";
import { WORKER_DATABASE_SOCKETS, workerLimits } from "./execution/subrequests";

function connect(env: WorkerEnv) {
  const config = loadWorkerConfig(env);
  if (!config.databaseUrl) throw new Error("DATABASE_URL is not set");
  return {
    options: { ...invocationOptionsFrom(config), limits: workerLimits(config.subrequestBudget) },
    // Its one WebSocket is opened once, and kept while idle: each opening is a subrequest.
    database: connectNeon(config.databaseUrl, {
      wsProxy: config.neonWsProxy,
      max: WORKER_DATABASE_SOCKETS,
      idleTimeoutMs: 0,
    }),
  };
}

/**
 * The database this isolate published its generators to. A deploy publishes them at migrate
 * time already; publishing once more per isolate (a statement that writes nothing when the
 * catalog is current) keeps the catalog true to the code that runs, whoever deployed it.
 */
let publishedTo: string | undefined;

async function invoke(
  env: WorkerEnv,
  options: InvocationOptions,
  database: Database,
  overrides: Partial<InvocationOptions> = {},
): Promise<void> {
  const url = env.DATABASE_URL ?? "";
  if (publishedTo !== url) {
    await publishGenerators(
      database.db,
      catalogOf(options.generators ?? new Map()),
      "system:claimer",
    );
    publishedTo = url;
  }
  await runWorkerInvocation(database.db, { ...options, ...overrides });
}

export default {
  scheduled(_event, env, ctx) {
    const { options, database } = connect(env);
    ctx.waitUntil(invoke(env, options, database).finally(() => database.close()));
  },

  /**
   * A batch of wake-ups from the API ("jobs were created"): acknowledged at once, whatever
   * follows, then one invocation claims and runs what is claimable, with the same budget as the
   * Cron's (a queue consumer has the Cron's wall time). The messages carry nothing to act on:
   * a batch of ten wakes the claimer once, and two batches delivered to two isolates claim
   * disjoint jobs (SKIP LOCKED), so a wake-up too many costs one empty claim. Housekeeping is
   * left to the Cron.
   */
  async queue(batch, env) {
    batch.ackAll();
    const { options, database } = connect(env);
    try {
      await invoke(env, options, database, { housekeeping: false });
    } finally {
      await database.close();
    }
  },
} satisfies ExportedHandler<WorkerEnv>;
