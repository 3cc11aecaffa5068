import pg from "pg";
import { afterAll, inject } from "vitest";
import { connect } from "../../db/client";
import type { Database } from "../../db/types";

export interface TestDatabase extends Database {
  url: string;
  name: string;
  /** A plain node-postgres client for raw SQL, as a second client or a human would type it. */
  raw: pg.Client;
}

let counter = 0;

export function serverUrl(database: string): string {
  const u = new URL(inject("pgAdminUrl"));
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates a new, migrated database (a copy of the run's template); closed after the file. */
export async function freshDatabase(options: { max?: number } = {}): Promise<TestDatabase> {
  const name = `${inject("pgRunPrefix")}_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: inject("pgAdminUrl") });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${inject("pgTemplate")}"`);
  } finally {
    await admin.end();
  }
  const url = serverUrl(name);
  const database = await connect({ url, max: options.max ?? 10 });
  const raw = new pg.Client({ connectionString: url });
  await raw.connect();
  afterAll(async () => {
    await raw.end();
    await database.close();
  });
  return { ...database, url, name, raw };
}
