/**
 * The top of Regent's HTTP side: one server that composes the API and the admin page. The
 * Worker entry (functions/api.ts), `npm start` (cli/start.ts) and the tests all build it here,
 * so what is tested is what is deployed.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import type { Db } from "../db/types";
import { createAdminApp } from "../web/admin-app";
import { ADMIN_BASE } from "../web/context";
import type { Config } from "./config/api";
import type { FailureLimiter } from "./domain/failure-limiter";
import type { InputSchemas } from "./domain/generators";
import { memorySignInLimiter, type SignInLimiter } from "./domain/sign-in-limiter";
import { newApp } from "./http/app";
import { accessJwt } from "./http/auth";
import { type ClientAddress, callerContext } from "./http/caller";
import type { App, AppEnv } from "./http/env";
import { notFoundOrNotAllowed, onError } from "./http/errors";
import { JOB_CREATING_ROUTES, type WakeClaimer, wakeClaimerAfter } from "./http/wake";

export interface ServerDeps {
  db: Db;
  config: Config;
  /** The caller's address as this runtime knows it (the socket on Node, Cloudflare's header on Workers). */
  clientAddress?: ClientAddress | undefined;
  /**
   * Where Access signing keys come from. Defaults to the team's published key set; a
   * long-lived process passes one set so that keys stay cached between requests.
   */
  accessKeys?: JWTVerifyGetKey | undefined;
  /**
   * Where failed admin sign-ins are counted. It must outlive the server when the server does
   * not outlive a request (the Worker builds one per request); default: this server's memory.
   */
  signInLimiter?: SignInLimiter | undefined;
  /**
   * Where the API counts failed authentications per client address. It must outlive the server
   * when the server does not outlive a request; default: this server's memory, with the
   * configured limit.
   */
  authLimiter?: FailureLimiter | undefined;
  /**
   * Tells the claimer that jobs were created (the Worker's queue producer, the loop of
   * `npm start`); without it, jobs wait for the claimer's next tick.
   */
  wakeClaimer?: WakeClaimer | undefined;
  /**
   * The input schemas the API has read from the catalog. It must outlive the server when the
   * server does not outlive a request (the Worker builds one per request); default: this
   * server's own.
   */
  inputSchemas?: InputSchemas | undefined;
}

/**
 * Regent's HTTP server: the caller context for every request, the API at `/api` and `/healthz`,
 * and the admin page at `/admin` where a session secret is configured.
 */
export function createServer(deps: ServerDeps): App {
  const { db, config } = deps;
  const access = config.access
    ? accessJwt(
        config.access,
        deps.accessKeys ?? createRemoteJWKSet(new URL(config.access.certsUrl)),
      )
    : undefined;

  const server = new OpenAPIHono<AppEnv>();
  server.use("*", callerContext({ db, config, clientAddress: deps.clientAddress }));
  server.onError(onError);
  server.notFound(notFoundOrNotAllowed(() => server.routes, ADMIN_BASE));
  const { wakeClaimer } = deps;
  if (wakeClaimer) {
    for (const path of JOB_CREATING_ROUTES) server.use(path, wakeClaimerAfter(wakeClaimer));
  }

  server.route(
    "/",
    newApp({
      db,
      config,
      access,
      inputSchemas: deps.inputSchemas,
      authLimiter: deps.authLimiter,
    }),
  );
  if (config.sessionSecret) {
    server.route(
      ADMIN_BASE,
      createAdminApp({
        db,
        sessionSecret: config.sessionSecret,
        access,
        signInLimiter: deps.signInLimiter ?? memorySignInLimiter(),
      }),
    );
  }
  return server;
}
