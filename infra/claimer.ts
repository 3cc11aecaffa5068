/**
 * The claimer: a Worker with no URL, woken by a Cron Trigger, and by the Api Worker through a
 * queue (infra/wake.ts) when jobs are created. It shares nothing with the Api Worker but the
 * database and that queue; the generator's credentials and the alert webhook's are bound to it
 * alone.
 */
import { CLAIMER_SCHEDULE } from "./config";
import { stage } from "./stage";
import { workerScript } from "./worker-script";
import { placement } from "./worker-settings";

export const claimer = new sst.cloudflare.Cron("Claimer", {
  schedules: [CLAIMER_SCHEDULE],
  worker: {
    handler: "functions/worker.ts",
    placement,
    environment: stage.claimer,
    transform: {
      worker: workerScript([
        "DATABASE_URL",
        "HTTP_GENERATOR_HEADERS",
        "ALERT_WEBHOOK_URL",
        "ALERT_WEBHOOK_SECRET",
      ]),
    },
  },
});
