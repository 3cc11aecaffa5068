/** The API and the /admin page: one Worker with a workers.dev URL. */
import { stage } from "./stage";
import { workerScript } from "./worker-script";

export const api = new sst.cloudflare.Worker("Api", {
  handler: "functions/api.ts",
  url: true,
  environment: stage.api,
  transform: {
    worker: workerScript(["DATABASE_URL", "SESSION_SECRET", "REGENT_BOOTSTRAP_ADMIN_TOKEN"]),
  },
});
