import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env";

/**
 * Tells the claimer that jobs were created, so that it starts them now rather than at its next
 * tick: a message on the claimer's queue on Cloudflare, the worker loop's `wake()` under
 * `npm start`. A signal only: the HTTP side never runs a generator, and the Cron (or the loop's
 * interval) remains the safety net for a signal that is lost.
 */
export type WakeClaimer = () => unknown;

/**
 * The routes that give the claimer work: a submit, an intent's execute, a batch's execute, and
 * a paused generator's resume (its waiting jobs become claimable), in the API and as the admin
 * page's forms. A request to one of them that succeeded (below 400; the admin page answers a
 * form with a redirect) wakes the claimer. A wake-up too many, on a
 * replayed submit say, is harmless: the claimer finds nothing new to claim.
 */
export const JOB_CREATING_ROUTES: readonly string[] = [
  "/api/jobs",
  "/api/admin/retry-intents/:id/execute",
  "/api/admin/retry-batches/:id/execute",
  "/admin/retry-intents/:id/execute",
  "/admin/retry-batches/:id/execute",
  "/api/admin/generators/:name/resume",
  "/admin/generators/:name/resume",
];

/**
 * Wakes the claimer after a job-creating request, once its response is ready. The signal is
 * sent beside the response (the Worker's `waitUntil` keeps it alive) and never fails the
 * request: a signal that fails or throws is logged, and the Cron picks the jobs up.
 */
export function wakeClaimerAfter(wake: WakeClaimer): MiddlewareHandler<AppEnv> {
  return async function wakeClaimerAfter(c, next) {
    await next();
    if (c.req.method !== "POST" || c.res.status >= 400) return;
    let signal: Promise<void>;
    try {
      signal = Promise.resolve(wake()).then(
        () => undefined,
        (error: unknown) => logFailedWake(error),
      );
    } catch (error) {
      logFailedWake(error);
      return;
    }
    let executionCtx: { waitUntil(promise: Promise<unknown>): void } | undefined;
    try {
      executionCtx = c.executionCtx;
    } catch {
      // Not in a Worker: nothing ends this process when the response is sent.
    }
    executionCtx?.waitUntil(signal);
  };
}

function logFailedWake(error: unknown) {
  console.warn(
    JSON.stringify({
      event: "claimer.wake.failed",
      error: error instanceof Error ? error.message : String(error),
    }),
  );
}
