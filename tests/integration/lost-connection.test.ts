import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPLICATION_NAME, connect } from "../../db/client";
import type { Database, Tx } from "../../db/types";
import { isConnectionFailure } from "../../functions/domain/errors";
import { submitJob } from "../../functions/domain/jobs";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { terminateRegentBackends } from "../helpers/faults";
import { submitter } from "../helpers/fixtures";
import { startWsProxy } from "../helpers/ws-proxy";

/**
 * Both server drivers, in this process: a connection that dies while a transaction holds it
 * (checked out of the pool, where the pool no longer listens for its errors) rejects that
 * transaction as a connection failure, crashes nothing, and the pool goes on with fresh
 * connections. Vitest fails the file on any uncaught exception, so "crashes nothing" is checked
 * by the run itself.
 */
let t: TestDatabase;
let proxy: Awaited<ReturnType<typeof startWsProxy>>;
const drivers: Record<string, Database> = {};

beforeAll(async () => {
  t = await freshDatabase();
  proxy = await startWsProxy();
  drivers["node-postgres"] = await connect({ url: t.url, max: 4 });
  drivers.neon = await connect({ url: t.url, driver: "neon", wsProxy: proxy.address, max: 4 });
});
afterAll(async () => {
  for (const database of Object.values(drivers)) await database.close();
  await proxy?.close();
});

async function jobCount(): Promise<number> {
  const { rows } = await t.raw.query("SELECT count(*)::int AS n FROM regeneration_jobs");
  return rows[0].n;
}

describe.each(["node-postgres", "neon"])("%s", (driver) => {
  it(`names its sessions ${APPLICATION_NAME}`, async () => {
    const db = (drivers[driver] as Database).db;
    const result = await db.execute(sql`SELECT current_setting('application_name') AS name`);
    const rows = (result as unknown as { rows: { name: string }[] }).rows;
    expect(rows[0]?.name).toBe(APPLICATION_NAME);
  });

  it("rejects a transaction whose connection is ended mid-way, writes nothing, and recovers", async () => {
    const db = (drivers[driver] as Database).db;
    const before = await jobCount();
    let inside: () => void = () => {};
    const reachedInside = new Promise<void>((resolve) => {
      inside = resolve;
    });
    const outcome = db
      .transaction(async (tx: Tx) => {
        await submitJob(tx, submitter, { generator: "demo", input: { text: "half-way" } });
        inside();
        // Holds the transaction open on its connection until that connection is ended.
        await tx.execute(sql`SELECT pg_sleep(30)`);
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    await reachedInside;
    expect(await terminateRegentBackends(t.raw, t.name)).toBeGreaterThanOrEqual(1);
    const error = await outcome;
    expect(error).toBeDefined();
    expect(isConnectionFailure(error)).toBe(true);
    expect(await jobCount()).toBe(before);

    await submitJob(db, submitter, { generator: "demo", input: { text: "afterwards" } });
    expect(await jobCount()).toBe(before + 1);
  });

  it("survives its idle connections being ended", async () => {
    const db = (drivers[driver] as Database).db;
    await Promise.all([1, 2, 3].map(() => db.execute(sql`SELECT 1`)));
    await terminateRegentBackends(t.raw, t.name);
    // An idle client is dropped by the pool when its end is noticed; a statement may still
    // meet one that was not noticed yet, and is then told so rather than crashing anything.
    const settled = await Promise.allSettled([1, 2, 3].map(() => db.execute(sql`SELECT 1`)));
    for (const r of settled) {
      if (r.status === "rejected") expect(isConnectionFailure(r.reason)).toBe(true);
    }
    await expect(db.execute(sql`SELECT 1`)).resolves.toBeDefined();
  });
});
