import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { createRemoteJWKSet } from "jose";
import { accessJwt, bearerToken, firstPresent } from "./auth";
import type { App, AppDeps, AppEnv } from "./env";
import { errorResponse, notFound, onError, payloadTooLarge, validationHook } from "./errors";
import type { CredentialCheck } from "./principal";
import { registerAdminJobRoutes } from "./routes/admin-jobs";
import { registerAuditRoutes } from "./routes/audit";
import { registerJobRoutes } from "./routes/jobs";
import { registerMetaRoutes } from "./routes/meta";
import { registerRetryIntentRoutes } from "./routes/retry-intents";

export type { AppDeps } from "./env";

/** Request bodies are small JSON documents; anything bigger is refused before it is read. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export const API_VERSION = "1.0.0";

/**
 * Regent's HTTP API, the same for the Worker, `npm start` and the tests: one error mapper,
 * one validation hook, one way of telling who calls.
 */
export function newApp(deps: AppDeps): App {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  const checks: CredentialCheck[] = [...(deps.credentialChecks ?? []), bearerToken(deps.db)];
  const access = deps.config.access;
  if (access) {
    checks.push(accessJwt(access, deps.accessKeys ?? createRemoteJWKSet(new URL(access.certsUrl))));
  }
  const resolvePrincipal = firstPresent(checks);
  const clientIp = deps.clientIp ?? ((c) => c.req.header("cf-connecting-ip"));

  app.use("*", async (c, next) => {
    const requestId = crypto.randomUUID();
    c.set("requestId", requestId);
    c.set("db", deps.db);
    c.set("config", deps.config);
    c.set("resolvePrincipal", resolvePrincipal);
    c.set("clientIp", clientIp(c)?.slice(0, 100));
    c.header("X-Request-Id", requestId);
    try {
      await next();
    } catch (thrown) {
      // Hono hands only Error instances to onError; anything else would escape as a bare 500.
      throw thrown instanceof Error ? thrown : new Error(`non-Error thrown: ${String(thrown)}`);
    }
  });
  app.use(
    "/api/*",
    bodyLimit({ maxSize: BODY_LIMIT_BYTES, onError: (c) => errorResponse(c, payloadTooLarge()) }),
  );
  app.onError(onError);
  app.notFound(notFound);

  registerMetaRoutes(app, { version: API_VERSION });
  registerJobRoutes(app);
  registerAdminJobRoutes(app);
  registerRetryIntentRoutes(app);
  registerAuditRoutes(app);
  return app;
}
