import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { createRemoteJWKSet } from "jose";
import { createAdminApp } from "../../web/admin-app";
import { type AccessIdentity, ADMIN_BASE } from "../../web/context";
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
  const accessCheck = access
    ? accessJwt(access, deps.accessKeys ?? createRemoteJWKSet(new URL(access.certsUrl)))
    : undefined;
  if (accessCheck) checks.push(accessCheck);
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

  // The admin page signs in with the same Access verification as the API, or with its own
  // token-backed session; it is served only where a session secret is configured.
  if (deps.config.sessionSecret) {
    app.route(
      ADMIN_BASE,
      createAdminApp({
        db: deps.db,
        sessionSecret: deps.config.sessionSecret,
        requireDistinctExecutor: deps.config.requireDistinctExecutor,
        ...(accessCheck ? { resolveAccessIdentity: accessIdentity(accessCheck) } : {}),
      }),
    );
  }
  return app;
}

/** An Access principal as the admin page knows it: its strongest role, or no identity at all. */
function accessIdentity(check: CredentialCheck) {
  return async (request: Request): Promise<AccessIdentity | null> => {
    const resolution = await check(request);
    if (resolution.outcome !== "ok") return null;
    const { actor, roles } = resolution.principal;
    const role = (["admin", "viewer", "submitter"] as const).find((r) => roles.includes(r));
    return role ? { actor, role } : null;
  };
}
