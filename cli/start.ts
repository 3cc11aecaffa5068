/**
 * `npm start [-- --migrate]`: gets the database ready (the embedded PGlite by default is
 * migrated; a server's database must be at this release's migration, made by
 * `npm run db:migrate` as the tables' owner, unless --migrate asks this process to migrate it as
 * that owner), makes sure the bootstrap admin token exists if one is configured, serves Regent
 * on PORT and runs the worker loop beside it, woken as soon as a request creates jobs.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { connect } from "../db/client";
import { type Config, ConfigError, loadConfig } from "../functions/config/api";
import { loadWorkerConfig, type WorkerConfig, WorkerConfigError } from "../functions/config/worker";
import { ensureBootstrapAdminToken } from "../functions/domain/api-tokens";
import { memoryAuthLimiter } from "../functions/domain/auth-limiter";
import { memorySignInLimiter } from "../functions/domain/sign-in-limiter";
import { catalogOf } from "../functions/execution/generators";
import { invocationOptionsFrom } from "../functions/execution/invocation";
import { startWorkerLoop } from "../functions/execution/loop";
import { createServer } from "../functions/server";
import { NotMigratedError, prepareDatabase } from "./database";

let config: Config;
let workerConfig: WorkerConfig;
try {
  config = loadConfig(process.env);
  workerConfig = loadWorkerConfig(process.env);
} catch (error) {
  const known = error instanceof ConfigError || error instanceof WorkerConfigError;
  console.error(known ? (error as Error).message : error);
  process.exit(1);
}

const { values: args } = parseArgs({ options: { migrate: { type: "boolean", default: false } } });
const database = await connect({ url: config.databaseUrl });
const workerOptions = invocationOptionsFrom(workerConfig);
// Migrating writes this process's policy into the database; either way the generators its
// worker runs are published to the catalog the API checks submissions against.
try {
  await prepareDatabase(database, {
    url: config.databaseUrl,
    migrate: args.migrate,
    policy: config.policy,
    generators: catalogOf(workerOptions.generators ?? new Map()),
    actor: "system:start",
  });
} catch (error) {
  await database.close();
  console.error(error instanceof NotMigratedError ? error.message : error);
  process.exit(1);
}
if (config.bootstrapAdminToken) {
  await ensureBootstrapAdminToken(database.db, config.bootstrapAdminToken);
}

/** Everything to stop on shutdown, last started first. */
const stops: (() => Promise<void>)[] = [() => database.close()];

const worker = startWorkerLoop(database.db, {
  ...workerOptions,
  intervalMs: workerConfig.intervalMs,
});
stops.push(() => worker.stop());

// Without SESSION_SECRET, admin sessions are signed with a secret of this process's own:
// they end when it stops.
const sessionSecret = config.sessionSecret ?? randomBytes(32).toString("base64url");
// The socket's address, never a header: this process faces its clients directly.
const app = createServer({
  db: database.db,
  config: { ...config, sessionSecret },
  clientAddress: (c) => getConnInfo(c).remote.address,
  // One process serves every request, so its memory sees every failed sign-in, and every
  // failed authentication at the API (AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_SECONDS).
  signInLimiter: memorySignInLimiter(),
  authLimiter: memoryAuthLimiter(config.authFailureLimit),
  // A job created here starts now, not at the loop's next interval.
  wakeClaimer: () => worker.wake(),
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: "127.0.0.1" }, (info) => {
  const url = `http://127.0.0.1:${info.port}`;
  const signIn = config.bootstrapAdminToken
    ? "  sign in: Authorization: Bearer <the value of REGENT_BOOTSTRAP_ADMIN_TOKEN> (admin)"
    : database.kind === "pglite"
      ? [
          "  sign in with an API token: stop the server, run",
          "    npm run regent -- token create --name me --role admin",
          "  and start it again (the embedded database admits one process at a time),",
          "  or start with REGENT_BOOTSTRAP_ADMIN_TOKEN=<a secret of 16+ characters>;",
          "  then send Authorization: Bearer <token>",
        ].join("\n")
      : [
          "  sign in with an API token:",
          "    npm run regent -- token create --name me --role admin",
          "  then send Authorization: Bearer <token>",
        ].join("\n");
  console.log(
    [
      `Regent is running on ${url} (database: ${database.kind})`,
      `  admin page: ${url}/admin (sign in with an API token)`,
      `  API reference: ${url}/api/docs`,
      `  worker: an invocation every ${workerConfig.intervalMs} ms and whenever jobs are created (batch ${workerConfig.batchSize}, concurrency ${workerConfig.concurrency})`,
      signIn,
      config.access ? `  Cloudflare Access sign-in is on (issuer ${config.access.issuer})` : "",
    ]
      .filter((line) => line.length > 0)
      .join("\n"),
  );
});
stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  for (const stop of stops.reverse()) {
    await stop().catch((error) => console.error(error));
  }
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
