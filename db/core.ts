/**
 * The database core: every Regent SQL function, trigger function and trigger, one current
 * definition each, in db/functions/ (a file per function, with the triggers that call it and
 * its grant). Migrations carry the DDL and data moves; after them the migrator applies the
 * core: in one transaction under an advisory lock, every `regent_*` function is dropped (with
 * its triggers) and the files are run again, so that what the database holds is exactly what
 * the repository says, with nothing left over. A digest of the files and the release's
 * migrations, kept in `regent_core_applied`, skips the work when nothing changed.
 *
 * `checkCore` tells whether a database still holds exactly those definitions: it applies them
 * in a transaction it rolls back, and compares PostgreSQL's own rendering of every function
 * and trigger (with its grants and enabled state) before and after.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";
import type { Database } from "./types";

export const CORE_FOLDER = fileURLToPath(new URL("./functions", import.meta.url));

export interface CoreFile {
  name: string;
  sql: string;
}

/** The core's files, in name order. */
export function readCore(folder: string = CORE_FOLDER): CoreFile[] {
  return readdirSync(folder)
    .filter((name) => name.endsWith(".sql"))
    .sort()
    .map((name) => ({ name, sql: readFileSync(join(folder, name), "utf8") }));
}

/** SHA-256 of the files' names and texts. */
export function coreDigest(files: readonly CoreFile[]): string {
  const hash = createHash("sha256");
  for (const file of files) hash.update(`${file.name}\0${file.sql}\0`);
  return hash.digest("hex");
}

const JOURNAL = fileURLToPath(new URL("./migrations/meta/_journal.json", import.meta.url));

/**
 * What `regent_core_applied` records: the core's digest with the tags of the release's
 * migrations, so that one row says both that the migrations ran and that the core is this
 * release's. A process that may not migrate (the application's role) reads it to know whether
 * the database is ready for it (`isMigrated` in db/migrate.ts).
 */
export function releaseDigest(files: readonly CoreFile[] = readCore()): string {
  const { entries } = JSON.parse(readFileSync(JOURNAL, "utf8")) as { entries: { tag: string }[] };
  return createHash("sha256")
    .update(coreDigest(files))
    .update(entries.map((entry) => entry.tag).join("\n"))
    .digest("hex");
}

type Exec = (text: string) => Promise<Record<string, unknown>[]>;

/**
 * Runs `work` in one transaction on one session, with multi-statement text allowed (the core's
 * files hold a function and its triggers); commits when `commit`, else rolls back.
 */
async function inTransaction<T>(
  database: Database,
  commit: boolean,
  work: (exec: Exec) => Promise<T>,
): Promise<T> {
  if (database.kind === "pglite") {
    const client = (database.db as unknown as { $client: PGlite }).$client;
    let result: T | undefined;
    await client.transaction(async (tx) => {
      result = await work(async (text) => {
        const results = await tx.exec(text);
        return (results.at(-1)?.rows ?? []) as Record<string, unknown>[];
      });
      if (!commit) await tx.rollback();
    });
    return result as T;
  }
  if (database.kind === "neon-http") {
    throw new Error(
      "the core is applied over a session (node-postgres or WebSocket), not over HTTP",
    );
  }
  const pool = (database.db as unknown as { $client: pg.Pool }).$client;
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(async (text) => {
      const answer = (await client.query(text)) as pg.QueryResult | pg.QueryResult[];
      const last = Array.isArray(answer) ? answer.at(-1) : answer;
      return (last?.rows ?? []) as Record<string, unknown>[];
    });
    await client.query(commit ? "COMMIT" : "ROLLBACK");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** Every Regent function's and trigger's definition as PostgreSQL renders it, by name. */
const FINGERPRINT = `
  SELECT 'function ' || p.oid::regprocedure::text AS object,
         pg_get_functiondef(p.oid) || E'\\n-- grants: ' || coalesce(p.proacl::text, 'default') AS definition
  FROM pg_proc p
  WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'regent\\_%'
  UNION ALL
  SELECT 'trigger ' || t.tgname || ' on ' || t.tgrelid::regclass::text,
         pg_get_triggerdef(t.oid) || E'\\n-- enabled: ' || t.tgenabled::text
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace
  ORDER BY 1`;

/**
 * Drops every `regent_*` function (their triggers go with them), runs the files, takes EXECUTE
 * from PUBLIC (each file grants regent_app what it needs), and checks every body now that all
 * exist (bodies are not checked while the files run, so that their order does not matter).
 */
async function replaceCore(exec: Exec, files: readonly CoreFile[]): Promise<void> {
  await exec("SET LOCAL check_function_bodies = off");
  await exec(`DO $$
    DECLARE f regprocedure;
    BEGIN
      FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
               WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'regent\\_%'
      LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', f);
      END LOOP;
    END $$`);
  for (const file of files) {
    try {
      await exec(file.sql);
    } catch (error) {
      throw new Error(`db/functions/${file.name}: ${(error as Error).message}`, { cause: error });
    }
  }
  await exec("SET LOCAL check_function_bodies = on");
  await exec(`DO $$
    DECLARE f record;
    BEGIN
      FOR f IN SELECT p.oid, p.oid::regprocedure AS name, l.lanvalidator::regproc AS validator
               FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
               WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'regent\\_%'
      LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.name);
        EXECUTE format('SELECT %s(%s)', f.validator, f.oid);
      END LOOP;
    END $$`);
}

/**
 * What only the database's owner may settle and a template copy does not carry: no role of
 * this database creates temporary tables through PUBLIC (a caller's TEMP table could otherwise
 * shadow one of Regent's in a function that does not pin its search_path); and no session
 * compiles its queries just in time: Regent's statements read a page's worth of rows, but a
 * walk that stops at a LIMIT is costed as if it read its whole index, past the JIT threshold,
 * and compiling then costs ten times the read (6 ms against 0.3 ms for the list of failures
 * needing a decision, measured on 1,000,000 jobs). Where the migrating role does not own the
 * database, PostgreSQL only warns about the first and refuses the second, which is then a
 * warning here; docs/deployment.md says what to run.
 */
const DATABASE_SETTINGS = `DO $$
  BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    BEGIN
      EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE WARNING 'only the database''s owner can turn off JIT for Regent''s sessions: ALTER DATABASE % SET jit = off', current_database();
    END;
  END $$`;

/**
 * Applies the core's definitions to the database, unless the digest recorded by the last
 * application equals the files' (or `force`). Returns what it did.
 */
export async function applyCore(
  database: Database,
  options: { files?: readonly CoreFile[]; force?: boolean } = {},
): Promise<"applied" | "unchanged"> {
  const files = options.files ?? readCore();
  const digest = releaseDigest(files);
  return inTransaction(database, true, async (exec) => {
    await exec("SELECT pg_advisory_xact_lock(hashtextextended('regent.core', 0))");
    await exec(DATABASE_SETTINGS);
    const [last] = await exec("SELECT digest FROM regent_core_applied ORDER BY id DESC LIMIT 1");
    if (!options.force && last?.digest === digest) return "unchanged";
    await replaceCore(exec, files);
    // The counters' triggers exist now, and lock out writers until this commits: a history
    // that predates them is counted here, once (regent_fill_tallies), and folded.
    await exec("SELECT regent_fill_tallies(), regent_compact_tallies()");
    await exec(`INSERT INTO regent_core_applied (digest) VALUES ('${digest}')`);
    return "applied";
  });
}

/** How a database's Regent functions and triggers differ from the repository's. */
export interface CoreDifference {
  object: string;
  problem: "changed" | "missing" | "not in the repository";
}

/**
 * The differences between the definitions the database holds and the repository's, none when
 * they are the same. Read-only: the repository's are applied in a transaction rolled back.
 * Takes the owner's rights, as applying does.
 */
export async function checkCore(
  database: Database,
  files: readonly CoreFile[] = readCore(),
): Promise<CoreDifference[]> {
  return inTransaction(database, false, async (exec) => {
    const fingerprint = async () =>
      new Map((await exec(FINGERPRINT)).map((row) => [String(row.object), String(row.definition)]));
    const deployed = await fingerprint();
    await replaceCore(exec, files);
    const repository = await fingerprint();
    const differences: CoreDifference[] = [];
    for (const [object, definition] of repository) {
      const there = deployed.get(object);
      if (there === undefined) differences.push({ object, problem: "missing" });
      else if (there !== definition) differences.push({ object, problem: "changed" });
    }
    for (const object of deployed.keys()) {
      if (!repository.has(object)) differences.push({ object, problem: "not in the repository" });
    }
    return differences;
  });
}
