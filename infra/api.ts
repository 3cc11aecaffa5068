/**
 * The API and the /admin page: one Worker with a workers.dev URL, bound to the claimer's Worker
 * (a service binding) to wake it when it creates jobs.
 */
import { CLAIMER_WAKE } from "../functions/config/wake";
import { claimer } from "./claimer";
import { SIGN_IN_RATE_LIMIT } from "./config";
import { stage } from "./stage";
import { workerScript } from "./worker-script";
import { placement } from "./worker-settings";

/** Counts admin sign-in attempts per address and token prefix, across the Worker's isolates. */
export const signInLimit = new sst.cloudflare.RateLimit(SIGN_IN_RATE_LIMIT.name, {
  namespaceId: SIGN_IN_RATE_LIMIT.namespaceId,
  limit: SIGN_IN_RATE_LIMIT.limit,
  period: SIGN_IN_RATE_LIMIT.period,
});

export const api = new sst.cloudflare.Worker("Api", {
  handler: "functions/api.ts",
  url: true,
  link: [signInLimit],
  placement,
  environment: stage.api,
  transform: {
    worker: workerScript(["DATABASE_URL", "SESSION_SECRET", "REGENT_BOOTSTRAP_ADMIN_TOKEN"], {
      [CLAIMER_WAKE.binding]: claimer.nodes.worker.scriptName,
    }),
  },
});
