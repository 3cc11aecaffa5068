import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, inject } from "vitest";
import type { TestDatabase } from "./db";

export const APP_ROLE = "regent_app";

/** A superuser connection of its own, for roles: they belong to the server, not the database. */
export async function asServerAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject("pgAdminUrl") });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface AppRoleMember {
  name: string;
  /** t's database, signed in as the member. */
  url: string;
  /** A raw connection as the member: what someone holding the application's credential has. */
  raw: pg.Client;
}

/**
 * A LOGIN member of regent_app made for this file (random name and password), as the deployed
 * Workers connect; dropped after the file.
 */
export async function appRoleMember(t: TestDatabase): Promise<AppRoleMember> {
  const name = `regent_app_member_${randomBytes(6).toString("hex")}`;
  const password = randomBytes(24).toString("hex");
  await asServerAdmin((client) =>
    client.query(`CREATE ROLE "${name}" LOGIN PASSWORD '${password}' IN ROLE ${APP_ROLE}`),
  );
  const url = new URL(t.url);
  url.username = name;
  url.password = password;
  const raw = new pg.Client({ connectionString: url.toString() });
  await raw.connect();
  afterAll(async () => {
    await raw.end();
    await asServerAdmin((client) =>
      client.query(`DROP OWNED BY "${name}"; DROP ROLE IF EXISTS "${name}"`).catch(() => {}),
    );
  });
  return { name, url: url.toString(), raw };
}
