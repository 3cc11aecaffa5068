import { OpenAPIHono } from "@hono/zod-openapi";
import { memoryAuthLimiter } from "../domain/auth-limiter";
import { InputSchemas } from "../domain/generators";
import { bearerToken, firstPresent } from "./auth";
import { limitBody } from "./body-limit";
import type { App, AppDeps, AppEnv } from "./env";
import { errorResponse, onError, payloadTooLarge, validationHook } from "./errors";
import { registerAdminJobRoutes } from "./routes/admin-jobs";
import { registerAuditRoutes } from "./routes/audit";
import { registerGeneratorRoutes } from "./routes/generators";
import { registerJobRoutes } from "./routes/jobs";
import { registerMetaRoutes } from "./routes/meta";
import { registerMetricsRoutes } from "./routes/metrics";
import { registerRetryBatchRoutes } from "./routes/retry-batches";
import { registerRetryIntentRoutes } from "./routes/retry-intents";

export type { AppDeps } from "./env";

export const API_VERSION = "1.0.0";

/**
 * Regent's HTTP API: one error mapper, one validation hook, one way of telling who calls
 * (an API token, or a Cloudflare Access assertion when Access is configured), one limit on
 * failed authentications per client address. It expects the caller context (`callerContext`)
 * from the server it is mounted in: see functions/server.ts.
 */
export function newApp(deps: AppDeps): App {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const resolvePrincipal = firstPresent(
    deps.access ? [bearerToken(), deps.access] : [bearerToken()],
  );
  const authLimiter = deps.authLimiter ?? memoryAuthLimiter(deps.config.authFailureLimit);
  // `/metrics` lies outside `/api`, and takes the same credentials.
  for (const path of ["/api/*", "/metrics"]) {
    app.use(path, async function apiCredentials(c, next) {
      c.set("resolvePrincipal", resolvePrincipal);
      c.set("authLimiter", authLimiter);
      await next();
    });
  }
  app.use("/api/*", async function apiResponseHeaders(c, next) {
    await next();
    // JSON meant for programs: never sniffed as something else, never kept by a cache.
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Cache-Control", "no-store");
  });
  app.use(
    "/api/*",
    limitBody((c) => errorResponse(c, payloadTooLarge())),
  );
  app.onError(onError);

  registerMetaRoutes(app, { version: API_VERSION, access: Boolean(deps.access) });
  const inputSchemas = deps.inputSchemas ?? new InputSchemas();
  registerJobRoutes(app, inputSchemas);
  registerAdminJobRoutes(app);
  registerRetryIntentRoutes(app, inputSchemas);
  registerRetryBatchRoutes(app);
  registerGeneratorRoutes(app);
  registerAuditRoutes(app);
  registerMetricsRoutes(app);
  return app;
}
