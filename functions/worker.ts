/**
 * The claimer Worker: each scheduled event (the Cron) runs one worker invocation against the
 * database, over the Neon serverless driver (WebSocket), and closes its pool when done. The API
 * Worker also wakes it right after creating jobs, through a service binding (`fetch`), so that
 * they start without waiting for the next tick; the Worker has no URL, so nothing else can.
 */
import { connectNeon } from "../db/neon";
import { CLAIMER_WAKE } from "./config/wake";
import { loadWorkerConfig, type WorkerConfig, type WorkerEnv } from "./config/worker";
import { invocationOptionsFrom, runWorkerInvocation } from "./execution/invocation";

/**
 * A wake-up claims for at most this long. The Cron's invocation has 15 minutes; a wake-up
 * lives as long as the API request's `waitUntil` that made it, so it stays short and leaves
 * the rest to the next wake-up or the Cron.
 */
const WAKE_BUDGET_MS = 5_000;

/** Wake-ups of this isolate: one runs at a time; those arriving meanwhile ask for one more. */
let waking = false;
let wokenAgain = false;

async function runWakeUps(config: WorkerConfig): Promise<void> {
  const options = invocationOptionsFrom(config);
  const until = Date.now() + WAKE_BUDGET_MS;
  const database = connectNeon(config.databaseUrl as string, { wsProxy: config.neonWsProxy });
  try {
    do {
      wokenAgain = false;
      await runWorkerInvocation(database.db, {
        ...options,
        budgetMs: Math.min(options.budgetMs, Math.max(100, until - Date.now())),
        housekeeping: false,
      });
    } while (wokenAgain && Date.now() < until);
  } finally {
    waking = false;
    await database.close();
  }
}

export default {
  scheduled(_event, env, ctx) {
    const config = loadWorkerConfig(env);
    if (!config.databaseUrl) throw new Error("DATABASE_URL is not set");
    const options = invocationOptionsFrom(config);
    const database = connectNeon(config.databaseUrl, { wsProxy: config.neonWsProxy });
    ctx.waitUntil(runWorkerInvocation(database.db, options).finally(() => database.close()));
  },

  /**
   * A wake-up from the API: claims and runs what is claimable now, then answers 204. One at a
   * time per isolate; a wake-up that arrives while one runs is answered 202 at once and makes
   * the running one claim again when it ends (its last claim may have come too early). Two
   * isolates woken together claim disjoint jobs (SKIP LOCKED), so a wake-up too many costs one
   * empty claim.
   */
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (request.method !== "POST" || pathname !== CLAIMER_WAKE.path) {
      return new Response(null, { status: 404 });
    }
    const config = loadWorkerConfig(env);
    if (!config.databaseUrl) throw new Error("DATABASE_URL is not set");
    if (waking) {
      wokenAgain = true;
      return new Response(null, { status: 202 });
    }
    waking = true;
    const run = runWakeUps(config);
    // Should the caller go away, the invocation still ends its claimed jobs.
    ctx.waitUntil(run);
    await run;
    return new Response(null, { status: 204 });
  },
} satisfies ExportedHandler<WorkerEnv>;
