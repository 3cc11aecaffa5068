/**
 * The claimer Worker: each scheduled event (the Cron) runs one worker invocation against the
 * database, over the Neon serverless driver (WebSocket), and closes its pool when done. The API
 * Worker also wakes it right after creating jobs, through a Cloudflare Queue it consumes
 * (infra/wake.ts), so that they start without waiting for the next tick; the Worker has no URL.
 */
import { connectNeon } from "../db/neon";
import { loadWorkerConfig, type WorkerEnv } from "./config/worker";
import { invocationOptionsFrom, runWorkerInvocation } from "./execution/invocation";

function connect(env: WorkerEnv) {
  const config = loadWorkerConfig(env);
  if (!config.databaseUrl) throw new Error("DATABASE_URL is not set");
  return {
    options: invocationOptionsFrom(config),
    database: connectNeon(config.databaseUrl, { wsProxy: config.neonWsProxy }),
  };
}

export default {
  scheduled(_event, env, ctx) {
    const { options, database } = connect(env);
    ctx.waitUntil(runWorkerInvocation(database.db, options).finally(() => database.close()));
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
      await runWorkerInvocation(database.db, { ...options, housekeeping: false });
    } finally {
      await database.close();
    }
  },
} satisfies ExportedHandler<WorkerEnv>;
