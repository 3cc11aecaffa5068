/**
 * The Cron Worker: each scheduled event runs one worker invocation against the database,
 * over the Neon serverless driver (WebSocket), and closes its pool when done.
 */
import { connectNeon } from "../db/neon";
import { loadWorkerConfig, type WorkerEnv } from "./config/worker";
import { invocationOptionsFrom, runWorkerInvocation } from "./execution/invocation";

export default {
  scheduled(_event, env, ctx) {
    const config = loadWorkerConfig(env);
    if (!config.databaseUrl) throw new Error("DATABASE_URL is not set");
    const options = invocationOptionsFrom(config);
    const database = connectNeon(config.databaseUrl, { wsProxy: config.neonWsProxy });
    ctx.waitUntil(runWorkerInvocation(database.db, options).finally(() => database.close()));
  },
} satisfies ExportedHandler<WorkerEnv>;
