/**
 * The database core (db/functions/): one current definition per function and trigger, applied
 * after the migrations, and a database that is tested to hold exactly those; shipped migrations
 * are never edited again.
 */
import { readdirSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { applyCore, CORE_FOLDER, checkCore, readCore } from "../../db/core";
import { readJournal, sha256Of } from "../../db/generate";
import { MIGRATIONS_FOLDER } from "../../db/migrate";
import { freshDatabase, type TestDatabase } from "../helpers/db";

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase();
});

describe("the core's files", () => {
  it("hold one function each, named as the file, with a pinned search_path", () => {
    for (const file of readCore()) {
      const functions = [...file.sql.matchAll(/CREATE FUNCTION (\w+)\(/g)].map((m) => m[1]);
      expect(functions, file.name).toEqual([file.name.replace(/\.sql$/, "")]);
      expect(file.sql, file.name).toMatch(/SET search_path = pg_catalog, public, pg_temp/);
    }
    expect(readdirSync(CORE_FOLDER).every((name) => name.endsWith(".sql"))).toBe(true);
  });

  it("are what the database holds: every function and trigger, and nothing else", async () => {
    expect(await checkCore(t)).toEqual([]);
  });
});

describe("a database changed by hand", () => {
  it("fails the check, naming what differs, until the core is applied again", async () => {
    await t.raw.query(`CREATE OR REPLACE FUNCTION regent_iso(p_at timestamptz) RETURNS text
      LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$ SELECT 'then' $$`);
    await t.raw.query(
      "CREATE FUNCTION regent_backdoor() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$",
    );
    await t.raw.query(
      "ALTER TABLE regeneration_outputs DISABLE TRIGGER regeneration_outputs_insert_only",
    );
    await t.raw.query("DROP TRIGGER api_tokens_update_guard ON api_tokens");
    expect(await checkCore(t)).toEqual(
      expect.arrayContaining([
        { object: "function regent_iso(timestamp with time zone)", problem: "changed" },
        { object: "function regent_backdoor()", problem: "not in the repository" },
        {
          object: "trigger regeneration_outputs_insert_only on regeneration_outputs",
          problem: "changed",
        },
        { object: "trigger api_tokens_update_guard on api_tokens", problem: "missing" },
      ]),
    );
    expect(await checkCore(t)).toHaveLength(4);
    // The digest says nothing changed in the repository, so only a forced application repairs it.
    expect(await applyCore(t)).toBe("unchanged");
    expect(await applyCore(t, { force: true })).toBe("applied");
    expect(await checkCore(t)).toEqual([]);
  });

  it("is applied again when a file changes, and only then", async () => {
    const files = readCore();
    expect(await applyCore(t, { files })).toBe("unchanged");
    const edited = files.map((file) =>
      file.name === "regent_iso.sql" ? { ...file, sql: `${file.sql}\n-- edited\n` } : file,
    );
    expect(await applyCore(t, { files: edited })).toBe("applied");
    expect(await applyCore(t, { files: edited })).toBe("unchanged");
    expect(await applyCore(t, { files })).toBe("applied");
  });

  it("rolls back as a whole when a file does not apply", async () => {
    const broken = [...readCore(), { name: "regent_zz_broken.sql", sql: "CREATE FUNCTION x(" }];
    await expect(applyCore(t, { files: broken })).rejects.toThrow(/regent_zz_broken\.sql/);
    expect(await checkCore(t)).toEqual([]);
  });
});

describe("shipped migrations", () => {
  it("are never edited: each is held to the SHA-256 its journal entry records", () => {
    const { entries } = readJournal();
    const files = readdirSync(MIGRATIONS_FOLDER).filter((name) => name.endsWith(".sql"));
    expect(entries.map((entry) => `${entry.tag}.sql`).sort()).toEqual(files.sort());
    for (const entry of entries) {
      expect(entry.sha256, `${entry.tag}: npm run db:generate pins a new migration`).toMatch(
        /^[0-9a-f]{64}$/,
      );
      expect(sha256Of(entry.tag), `${entry.tag} was edited after it shipped`).toBe(entry.sha256);
    }
  });
});
