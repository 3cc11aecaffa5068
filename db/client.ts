import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import pg from "pg";
import ws from "ws";
import {
  APPLICATION_NAME,
  CONNECTION_TIMEOUT_MS,
  connectNeon,
  survivesLostConnections,
} from "./neon";
import * as schema from "./schema";
import type { Database, Db } from "./types";

export { APPLICATION_NAME, CONNECTION_TIMEOUT_MS, survivesLostConnections } from "./neon";
export type { Database, Db, Executor, Tx } from "./types";

/** Where the embedded database lives when DATABASE_URL is unset. */
export const DEFAULT_PGLITE_DIR = "./.regent/pgdata";

export interface ConnectOptions {
  /** postgres:// URL; unset means the embedded PGlite database. */
  url?: string | undefined;
  /** PGlite data directory (default ./.regent/pgdata); "memory://" for a throwaway one. */
  dataDir?: string | undefined;
  /** Use the Neon serverless driver instead of node-postgres (as the Workers bundle does). */
  driver?: "node-postgres" | "neon";
  /** With driver "neon": the WebSocket proxy, as NEON_WS_PROXY. */
  wsProxy?: string | undefined;
  /** Pool size for node-postgres and Neon. */
  max?: number;
}

/**
 * Opens Regent's database from Node: embedded PGlite when no URL is given, node-postgres for
 * a postgres:// URL, or the Neon driver when asked (to exercise the Workers path from Node).
 */
export async function connect(options: ConnectOptions = {}): Promise<Database> {
  const url = options.url?.trim();
  if (!url) {
    const dataDir = options.dataDir ?? DEFAULT_PGLITE_DIR;
    let unlock = () => {};
    if (!dataDir.startsWith("memory://")) {
      mkdirSync(dataDir, { recursive: true });
      unlock = lockDataDir(dataDir);
    }
    try {
      const client = await PGlite.create(dataDir);
      const db = drizzlePglite({ client, schema }) as unknown as Db;
      return {
        db,
        kind: "pglite",
        close: async () => {
          await client.close();
          unlock();
        },
      };
    } catch (error) {
      unlock();
      throw error;
    }
  }
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new Error("DATABASE_URL must be a postgres:// or postgresql:// URL");
  }
  if (options.driver === "neon") {
    return connectNeon(url, {
      wsProxy: options.wsProxy,
      webSocketConstructor: ws,
      max: options.max,
    });
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    fallback_application_name: APPLICATION_NAME,
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
  });
  survivesLostConnections(pool);
  const db = drizzlePg({ client: pool, schema }) as unknown as Db;
  return { db, kind: "node-postgres", close: () => pool.end() };
}

/**
 * PGlite is a single-process database: a second process opening the same folder corrupts it.
 * A lock file holding the owner's pid refuses the second opener with a clear message; a lock
 * left by a process that no longer runs is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lockFile = join(dataDir, "regent.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        rmSync(lockFile, { force: true });
        process.off("exit", release);
      };
      process.on("exit", release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(lockFile, "utf8"));
      if (Number.isInteger(owner) && owner > 0 && isRunning(owner)) {
        throw new Error(
          `the embedded database in ${dataDir} is in use by process ${owner} (is npm start running?); ` +
            "stop it first, or set DATABASE_URL to a PostgreSQL server",
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`could not lock the embedded database in ${dataDir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
