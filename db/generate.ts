/**
 * `npm run db:generate -- [--name NAME]`: drizzle-kit writes the migration the schema's change
 * needs, and each migration it has just added gets the SHA-256 of its SQL recorded in its entry
 * of `db/migrations/meta/_journal.json`. A migration that has shipped is never edited again:
 * `tests/integration/core.test.ts` holds every migration to the hash its entry records.
 * Entries that have a hash keep it: this never re-pins a migration that changed.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { MIGRATIONS_FOLDER } from "./migrate";

export const JOURNAL = join(MIGRATIONS_FOLDER, "meta", "_journal.json");

export interface JournalEntry {
  idx: number;
  tag: string;
  /** The SHA-256 (hex) of `<tag>.sql` as it shipped. */
  sha256?: string;
}

export const sha256Of = (tag: string): string =>
  createHash("sha256")
    .update(readFileSync(join(MIGRATIONS_FOLDER, `${tag}.sql`)))
    .digest("hex");

/** drizzle-kit's empty custom migration, still waiting for its SQL. */
function isPlaceholder(tag: string): boolean {
  const text = readFileSync(join(MIGRATIONS_FOLDER, `${tag}.sql`), "utf8").trim();
  return text === "-- Custom SQL migration file, put your code below! --";
}

export function readJournal(): { entries: JournalEntry[] } {
  return JSON.parse(readFileSync(JOURNAL, "utf8"));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const generated = spawnSync("drizzle-kit", ["generate", ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  if (generated.status !== 0) process.exit(generated.status ?? 1);
  const journal = readJournal();
  // A custom migration (`--custom`) is pinned once it holds its SQL: run this again then.
  const pinned = journal.entries.filter(
    (entry) => entry.sha256 === undefined && !isPlaceholder(entry.tag),
  );
  for (const entry of pinned) entry.sha256 = sha256Of(entry.tag);
  // As drizzle-kit writes it: two spaces, no newline at the end.
  writeFileSync(JOURNAL, JSON.stringify(journal, null, 2));
  for (const entry of pinned) console.log(`pinned ${entry.tag} ${entry.sha256}`);
}
