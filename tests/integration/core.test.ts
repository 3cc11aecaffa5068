/**
 * The database core (db/functions/): one current definition per function and trigger, applied
 * after the migrations, and a database that is tested to hold exactly those; shipped migrations
 * are never edited again.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { applyCore, CORE_FOLDER, checkCore, readCore } from "../../db/core";
import { MIGRATIONS_FOLDER } from "../../db/migrate";
import { freshDatabase, type TestDatabase } from "../helpers/db";

/**
 * SHA-256 of every migration as it shipped. A migration that reached a database is never
 * edited: a change is a new migration (DDL, data) or a changed file in db/functions/. Add the
 * hash of a new migration here in the commit that adds it.
 */
const SHIPPED: Record<string, string> = {
  "0000_init": "6de1431b7a55a31c3ff483af3328baf4d9aa01523e540776830411cb74007bbe",
  "0001_invariants": "c3cffafe8ef5f87e70c1e802b9b49d072bffe4e9f7b0121ef2b0694894468adf",
  "0002_audit_subject_type_index":
    "001a0790c002b74337c8c78fce274831cba70a82a04a16770618e334db2db3b3",
  "0003_app_role": "8a234a2405f3c5d2cd7f30cb140019275289f1a6eebe0de2a75e3857a5dcf6a7",
  "0004_incident_governance": "fb674312d9417019150ab04f5ac8686ddc387c7ba9059c6277423689bfa7ca70",
  "0005_hardening": "880b846ce0c016a4864b46f8e6cff18ca847e51e6360c4e68564b75cde3d09b4",
  "0006_units_of_work": "c8137e4d5d35425979f9b93915c64434d5162ce5815bc9a832c8902a8939c6e3",
  "0007_set_based_checks": "87e87f57bbc792597ab1e09a34bc7f9daaada2722f0d0038869e781febc3ed0f",
  "0008_core_policy": "ce8592bd7b04c4b85dc75fb377819d31b84779ca2b3bf2c66636bd36a214176e",
};

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
  it("are never edited, and each new one is pinned", () => {
    const files = readdirSync(MIGRATIONS_FOLDER).filter((name) => name.endsWith(".sql"));
    const hashes = Object.fromEntries(
      files.map((name) => [
        name.replace(/\.sql$/, ""),
        createHash("sha256")
          .update(readFileSync(join(MIGRATIONS_FOLDER, name)))
          .digest("hex"),
      ]),
    );
    expect(hashes).toEqual(SHIPPED);
  });
});
