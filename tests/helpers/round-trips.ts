import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { afterAll } from "vitest";
import { APPLICATION_NAME, survivesLostConnections } from "../../db/client";
import * as schema from "../../db/schema";
import type { Db } from "../../db/types";
import { freshDatabase, type TestDatabase } from "./db";

/** One statement a client sent, in the order they were sent. */
export interface SentStatement {
  text: string;
}

/**
 * A database handle that counts round trips: every `query` a node-postgres client of its pool
 * sends (BEGIN and COMMIT included) is one, since node-postgres sends a statement only after
 * the previous one was answered. Wrapped in Drizzle exactly as db/client.ts does, so a server
 * built on `db` runs the same code as in production.
 */
export interface RoundTripCounter {
  /** The counted handle: give it to testApp / adminApp. */
  db: Db;
  /** Statements sent since the last reset. */
  readonly count: number;
  /** Their text (first line), for a failure message that says what was sent. */
  readonly statements: readonly SentStatement[];
  /** Starts counting from zero. */
  reset(): void;
  /**
   * Runs `work` and returns it with the statements it sent. Waits for the pool to be idle
   * first and after, so that work a previous request left running is not counted here.
   */
  measure<T>(work: () => Promise<T>): Promise<{ result: T; count: number; statements: string[] }>;
}

function statementText(args: unknown[]): string {
  const [first] = args;
  const text =
    typeof first === "string"
      ? first
      : typeof first === "object" && first !== null && "text" in first
        ? String((first as { text: unknown }).text)
        : String(first);
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}

/**
 * A counting handle over the database at `url` (by default a fresh migrated one, whose own
 * uncounted handle sets up fixtures). Closed after the file.
 */
export async function countingDatabase(
  database?: TestDatabase,
): Promise<RoundTripCounter & { database: TestDatabase }> {
  const target = database ?? (await freshDatabase());
  const sent: SentStatement[] = [];
  let inFlight = 0;
  const pool = new pg.Pool({
    connectionString: target.url,
    max: 10,
    fallback_application_name: APPLICATION_NAME,
  });
  survivesLostConnections(pool);
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (
      ...args: unknown[]
    ) => {
      sent.push({ text: statementText(args) });
      inFlight++;
      const done = () => {
        inFlight--;
      };
      const last = args[args.length - 1];
      if (typeof last === "function") {
        const callback = last as (...results: unknown[]) => void;
        return query(...args.slice(0, -1), (...results: unknown[]) => {
          done();
          callback(...results);
        });
      }
      const result = query(...args);
      if (result && typeof (result as Promise<unknown>).then === "function") {
        (result as Promise<unknown>).then(done, done);
      } else {
        done();
      }
      return result;
    };
  });
  const db = drizzle({ client: pool, schema }) as unknown as Db;
  afterAll(() => pool.end());

  const idle = async () => {
    for (let i = 0; i < 200 && inFlight > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setImmediate(resolve));
  };

  const counter = {
    db,
    database: target,
    get count() {
      return sent.length;
    },
    get statements() {
      return sent;
    },
    reset() {
      sent.length = 0;
    },
    async measure<T>(work: () => Promise<T>) {
      await idle();
      sent.length = 0;
      const result = await work();
      await idle();
      return { result, count: sent.length, statements: sent.map((s) => s.text) };
    },
  };
  return counter;
}
