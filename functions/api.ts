/**
 * The API Worker: one app per request over the Neon serverless driver (a Worker may not share
 * a database socket between requests); the pool is closed once the response is sent.
 */
import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import { connectNeon } from "../db/neon";
import { ensureBootstrapAdminToken } from "./domain/api-tokens";
import { newApp } from "./http/app";
import { type Config, loadConfig } from "./http/config";
import { standaloneErrorResponse } from "./http/errors";

export interface Env {
  DATABASE_URL: string;
  NEON_WS_PROXY?: string;
  ACCESS_TEAM_DOMAIN?: string;
  ACCESS_AUD?: string;
  ACCESS_ADMIN_EMAILS?: string;
  ACCESS_VIEWER_EMAILS?: string;
  ACCESS_SUBMITTER_EMAILS?: string;
  REQUIRE_DISTINCT_EXECUTOR?: string;
  SESSION_SECRET?: string;
  REGENT_BOOTSTRAP_ADMIN_TOKEN?: string;
}

/** The bootstrap admin token is ensured once per isolate, not on every request. */
let bootstrapped: string | undefined;

/** Access signing keys outlive a request, so that they are fetched once per isolate, not per call. */
let keys: { url: string; get: JWTVerifyGetKey } | undefined;
function accessKeys(config: Config): JWTVerifyGetKey | undefined {
  if (!config.access) return undefined;
  if (keys?.url !== config.access.certsUrl) {
    keys = {
      url: config.access.certsUrl,
      get: createRemoteJWKSet(new URL(config.access.certsUrl)),
    };
  }
  return keys.get;
}

async function fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  let config: Config;
  try {
    config = loadConfig(env as unknown as Record<string, unknown>);
    if (!config.databaseUrl) throw new Error("DATABASE_URL is required in a Worker");
    if (!config.sessionSecret) throw new Error("SESSION_SECRET is required in a Worker");
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    return standaloneErrorResponse("INTERNAL", "the server is misconfigured");
  }
  const database = connectNeon(config.databaseUrl, { wsProxy: config.neonWsProxy });
  try {
    if (config.bootstrapAdminToken && bootstrapped !== config.bootstrapAdminToken) {
      await ensureBootstrapAdminToken(database.db, config.bootstrapAdminToken);
      bootstrapped = config.bootstrapAdminToken;
    }
    const app = newApp({ db: database.db, config, accessKeys: accessKeys(config) });
    return await app.fetch(request, env, ctx);
  } finally {
    ctx.waitUntil(database.close());
  }
}

export default { fetch } satisfies ExportedHandler<Env>;
