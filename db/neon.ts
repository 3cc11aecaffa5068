import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-serverless";
import * as schema from "./schema";
import type { Database, Db } from "./types";

export interface NeonOptions {
  /** `host:port/path` of a WebSocket-to-TCP proxy for a non-Neon PostgreSQL (plain ws://, TLS off). */
  wsProxy?: string | undefined;
  /** A WebSocket constructor for runtimes without a global one (Node). */
  webSocketConstructor?: unknown;
  max?: number;
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
  const pool = new Pool({ connectionString: url, max: options.max ?? 5 });
  const db = drizzle({ client: pool, schema }) as unknown as Db;
  return { db, kind: "neon", close: () => pool.end() };
}
