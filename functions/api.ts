/**
 * The API Worker: one app per request over the Neon serverless driver (a Worker may not share
 * a database socket between requests): a WebSocket pool closed once the response is sent, or
 * with DATABASE_DRIVER=http one HTTPS request per statement and nothing to open or close.
 */
import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import { connectNeon, connectNeonHttp } from "../db/neon";
import type { Database } from "../db/types";
import { type ApiEnv, type Config, loadConfig } from "./config/api";
import { CLAIMER_WAKE } from "./config/wake";
import { ensureBootstrapAdminToken } from "./domain/api-tokens";
import {
  type AuthFailureLimit,
  bindingAuthLimiter,
  CLOUDFLARE_AUTH_LIMIT,
  memoryAuthLimiter,
} from "./domain/auth-limiter";
import type { FailureLimiter } from "./domain/failure-limiter";
import { InputSchemas } from "./domain/generators";
import {
  bindingSignInLimiter,
  CLOUDFLARE_SIGN_IN_LIMIT,
  memorySignInLimiter,
  type SignInLimiter,
} from "./domain/sign-in-limiter";
import { cloudflareClientAddress } from "./http/caller";
import { standaloneErrorResponse } from "./http/errors";
import { createServer } from "./server";

/**
 * The Worker's env: the variables its schema reads, and the bindings that are not text. The
 * sign-in limit and the API's failed-authentication limit are SST's RateLimit components,
 * linked in infra/api.ts under their component names.
 */
type Env = ApiEnv & {
  [CLOUDFLARE_SIGN_IN_LIMIT.binding]?: RateLimit;
  [CLOUDFLARE_AUTH_LIMIT.binding]?: RateLimit;
  /** The claimer's wake-up queue (infra/wake.ts), a producer; unbound: the Cron alone. */
  [CLAIMER_WAKE.binding]?: Queue;
};

/**
 * Wakes the claimer by sending one message to its queue. The send is all the request waits
 * for (in `waitUntil`, beside the response already sent): the claimer runs in its own
 * invocation, with a queue consumer's wall time.
 */
function claimerWake(env: Env): (() => Promise<void>) | undefined {
  const queue = env[CLAIMER_WAKE.binding];
  if (!queue) return undefined;
  return async () => {
    await queue.send(CLAIMER_WAKE.message, { contentType: "json" });
  };
}

/**
 * Without the binding (a Worker run outside SST's deployment, as in the workerd tests), failed
 * sign-ins are counted in the isolate: per isolate, but never not at all.
 */
const isolateSignInLimiter = memorySignInLimiter();

function signInLimiter(env: Env): SignInLimiter {
  const binding = env[CLOUDFLARE_SIGN_IN_LIMIT.binding];
  return binding ? bindingSignInLimiter(binding) : isolateSignInLimiter;
}

/**
 * The addresses this isolate has seen the failed-authentication binding refuse, each with the
 * instant it is let through again: refused here without a call to the binding or the database.
 */
const isolateBlockedAddresses = new Map<string, number>();

/**
 * Without the binding, failed authentications are counted in the isolate, with the configured
 * limit (AUTH_FAILURE_*): per isolate, but never not at all.
 */
let isolateAuthLimiter: FailureLimiter | undefined;

function authLimiter(env: Env, limit: AuthFailureLimit): FailureLimiter {
  const binding = env[CLOUDFLARE_AUTH_LIMIT.binding];
  if (binding) return bindingAuthLimiter(binding, isolateBlockedAddresses);
  isolateAuthLimiter ??= memoryAuthLimiter(limit);
  return isolateAuthLimiter;
}

/**
 * The generators' input schemas, learnt from the catalog once per isolate: a submission is then
 * checked here and costs one statement (the database still holds it to the current schema).
 */
const isolateInputSchemas = new InputSchemas();

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

/**
 * Ensures the bootstrap admin token, a transaction (the token and its audit event): over the
 * request's pool, or with the http driver, which has no transactions, over a WebSocket pool of
 * its own, once per isolate.
 */
async function bootstrap(
  config: Config,
  url: string,
  token: string,
  database: Database,
  ctx: ExecutionContext,
): Promise<void> {
  if (database.kind !== "neon-http") return ensureBootstrapAdminToken(database.db, token);
  const session = connectNeon(url, { wsProxy: config.neonWsProxy });
  try {
    await ensureBootstrapAdminToken(session.db, token);
  } finally {
    ctx.waitUntil(session.close());
  }
}

async function fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  let config: Config;
  try {
    config = loadConfig(env);
    if (!config.databaseUrl) throw new Error("DATABASE_URL is required in a Worker");
    if (!config.sessionSecret) throw new Error("SESSION_SECRET is required in a Worker");
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    return standaloneErrorResponse("INTERNAL", "the server is misconfigured");
  }
  const database =
    config.databaseDriver === "http"
      ? connectNeonHttp(config.databaseUrl, { endpoint: config.neonHttpEndpoint })
      : connectNeon(config.databaseUrl, { wsProxy: config.neonWsProxy });
  try {
    if (config.bootstrapAdminToken && bootstrapped !== config.bootstrapAdminToken) {
      await bootstrap(config, config.databaseUrl, config.bootstrapAdminToken, database, ctx);
      bootstrapped = config.bootstrapAdminToken;
    }
    const server = createServer({
      db: database.db,
      config,
      clientAddress: cloudflareClientAddress,
      accessKeys: accessKeys(config),
      signInLimiter: signInLimiter(env),
      authLimiter: authLimiter(env, config.authFailureLimit),
      wakeClaimer: claimerWake(env),
      inputSchemas: isolateInputSchemas,
    });
    return await server.fetch(request, env, ctx);
  } finally {
    ctx.waitUntil(database.close());
  }
}

export default { fetch } satisfies ExportedHandler<Env>;
