/// <reference path="./.sst/platform/config.d.ts" />

/**
 * Regent on Cloudflare (docs/deployment.md): the `Api` Worker with a URL and the `Claimer`
 * Cron Worker, which the Api also wakes through a Cloudflare Queue, over one PostgreSQL database.
 * Deploy with `npm run deploy -- --stage <stage>`, which applies the migrations first.
 */
export default $config({
  app(input) {
    // PRODUCTION_STAGE of infra/config.ts, spelled out: SST wants no imports at the top here.
    const production = input?.stage === "production";
    return {
      name: "regent",
      home: "cloudflare",
      removal: production ? "retain" : "remove",
      protect: production,
    };
  },
  async run() {
    // The claimer and its wake-up queue first: the Api Worker is linked to the queue.
    await import("./infra/claimer");
    await import("./infra/wake");
    const { api } = await import("./infra/api");
    return { api: api.url };
  },
});
