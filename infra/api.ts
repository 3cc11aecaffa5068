/**
 * The API and the /admin page: one Worker with a workers.dev URL, linked to the claimer's
 * wake-up queue (a producer binding) to wake the claimer when it creates jobs, and to the two
 * rate limits it counts failures with (admin sign-ins, authentications at the API).
 */
import { AUTH_RATE_LIMIT, SIGN_IN_RATE_LIMIT } from "./config";
import { stage } from "./stage";
import { claimerWake } from "./wake";
import { workerScript } from "./worker-script";
import { placement } from "./worker-settings";

/** Counts admin sign-in attempts per client address, across the Worker's isolates. */
export const signInLimit = new sst.cloudflare.RateLimit(SIGN_IN_RATE_LIMIT.name, {
  namespaceId: SIGN_IN_RATE_LIMIT.namespaceId,
  limit: SIGN_IN_RATE_LIMIT.limit,
  period: SIGN_IN_RATE_LIMIT.period,
});

/** Counts failed authentications at the API per client address, across the Worker's isolates. */
export const authLimit = new sst.cloudflare.RateLimit(AUTH_RATE_LIMIT.name, {
  namespaceId: AUTH_RATE_LIMIT.namespaceId,
  limit: AUTH_RATE_LIMIT.limit,
  period: AUTH_RATE_LIMIT.period,
});

export const api = new sst.cloudflare.Worker("Api", {
  handler: "functions/api.ts",
  url: true,
  link: [signInLimit, authLimit, claimerWake],
  placement,
  environment: stage.api,
  transform: {
    worker: workerScript([
      "DATABASE_URL",
      "SESSION_SECRET",
      "REGENT_BOOTSTRAP_ADMIN_TOKEN",
      "METRICS_TOKEN",
    ]),
  },
});
