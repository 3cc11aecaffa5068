import { neon, neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle as drizzleHttp } from "drizzle-orm/neon-http";
import { drizzle } from "drizzle-orm/neon-serverless";
import * as schema from "./schema";
import type { Database, Db } from "./types";

/**
 * How Regent's sessions are named in pg_stat_activity, so that an operator (or a test) can
 * tell them apart; `application_name` in the URL or PGAPPNAME still wins.
 */
export const APPLICATION_NAME = "regent";

/**
 * The longest wait for a connection, new or from a full pool. Without it a request waits on
 * an unreachable server for as long as the kernel keeps trying (about two minutes); with it,
 * it fails and is answered 503. Generous, because a connect on a starved machine can take
 * seconds, and failing a healthy one would be worse than waiting.
 */
export const CONNECTION_TIMEOUT_MS = 30_000;

/**
 * The part of a node-postgres or Neon pool that losing a connection involves. It lives here,
 * beside the Workers driver, because db/client.ts (Node only) already imports this module.
 */
export interface ConnectionEvents {
  on(event: "error", listener: (error: Error) => void): unknown;
  on(
    event: "connect",
    listener: (client: { on(event: "error", listener: (error: Error) => void): unknown }) => void,
  ): unknown;
}

/**
 * A lost connection must fail the work that was using it, never the process. The client of a
 * pool emits "error" when its connection dies (a PostgreSQL restart, a failover,
 * pg_terminate_backend), and an EventEmitter without a listener throws that error out of the
 * socket's callback: an uncaught exception. The pool listens only while a client is idle, and
 * drops its listener when the client is checked out, as a transaction checks it out for its
 * whole length. So every client gets a listener of its own for its whole life. Nothing is
 * lost by ignoring the event: the statement in flight is rejected with the same error, a dead
 * client refuses any further statement, and the pool discards it when it is released.
 */
export function survivesLostConnections(pool: ConnectionEvents): void {
  const ignore = () => {};
  pool.on("error", ignore);
  pool.on("connect", (client) => client.on("error", ignore));
}

export interface NeonOptions {
  /** `host:port/path` of a WebSocket-to-TCP proxy for a non-Neon PostgreSQL (plain ws://, TLS off). */
  wsProxy?: string | undefined;
  /** A WebSocket constructor for runtimes without a global one (Node). */
  webSocketConstructor?: unknown;
  max?: number;
  /**
   * How long an idle connection stays open before the pool closes it; default 10 s. 0 keeps
   * it until close(): a Worker invocation that must open its connections only once.
   */
  idleTimeoutMs?: number;
}

/**
 * The Neon serverless driver over WebSocket: the driver used inside Cloudflare Workers.
 * Pool (not the HTTP driver) so that interactive transactions work.
 */
export function connectNeon(url: string, options: NeonOptions = {}): Database {
  if (options.wsProxy) {
    const proxy = options.wsProxy;
    neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineConnect = false;
    neonConfig.pipelineTLS = false;
    neonConfig.forceDisablePgSSL = true;
  }
  if (options.webSocketConstructor) {
    neonConfig.webSocketConstructor = options.webSocketConstructor as typeof WebSocket;
  }
  const pool = new Pool({
    connectionString: url,
    max: options.max ?? 5,
    fallback_application_name: APPLICATION_NAME,
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
    idleTimeoutMillis: options.idleTimeoutMs,
  });
  survivesLostConnections(pool);
  const db = drizzle({ client: pool, schema }) as unknown as Db;
  return { db, kind: "neon", close: () => pool.end() };
}

export interface NeonHttpOptions {
  /** Where to POST statements instead of Neon's own endpoint (a local stand-in). */
  endpoint?: string | undefined;
}

/**
 * Neon's SQL-over-HTTP driver: each statement is one HTTPS request, with nothing to open first
 * (no WebSocket, no PostgreSQL startup), and no session either: a statement runs on its own,
 * and `db.transaction` is refused. For callers that send independent statements only, as the
 * API does; the claimer keeps the WebSocket pool. Nothing to close.
 */
export function connectNeonHttp(url: string, options: NeonHttpOptions = {}): Database {
  if (options.endpoint) neonConfig.fetchEndpoint = options.endpoint;
  const client = neon(url);
  const db = drizzleHttp({ client, schema }) as unknown as Db;
  return { db, kind: "neon-http", close: async () => {} };
}
