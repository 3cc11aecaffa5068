/**
 * The Cron Worker: each scheduled event runs one worker invocation against the database,
 * over the Neon serverless driver (WebSocket), and closes its pool when done.
 */
import { connectNeon } from "../db/neon";
import { loadWorkerConfig } from "./execution/config";
import { invocationOptionsFrom, runWorkerInvocation } from "./execution/invocation";

export interface Env {
  DATABASE_URL: string;
  NEON_WS_PROXY?: string;
  WORKER_BATCH_SIZE?: string;
  WORKER_CONCURRENCY?: string;
  WORKER_LEASE_SECONDS?: string;
  WORKER_BUDGET_MS?: string;
  JOB_TIMEOUT_MS?: string;
  HTTP_GENERATOR_URL?: string;
  HTTP_GENERATOR_TIMEOUT_MS?: string;
  HTTP_GENERATOR_HEADERS?: string;
}

export default {
  scheduled(_event, env, ctx) {
    if (!env.DATABASE_URL) throw new Error("DATABASE_URL is not set");
    const options = invocationOptionsFrom(loadWorkerConfig(env));
    const database = connectNeon(env.DATABASE_URL, { wsProxy: env.NEON_WS_PROXY });
    ctx.waitUntil(runWorkerInvocation(database.db, options).finally(() => database.close()));
  },
} satisfies ExportedHandler<Env>;
