/**
 * How the Node processes that serve or run jobs (`npm start`, `npm run worker`) get their
 * database ready. Only the owner of Regent's tables may migrate. The embedded database is
 * this process's own, so it is migrated at start. A server is migrated by
 * `npm run db:migrate`, run as the owner, or at start only when asked (`--migrate`): the
 * processes themselves should run as a login member of `regent_app`, which may not migrate.
 */
import { type GeneratorManifest, publishGenerators } from "../db/catalog";
import { isMigrated, migrate } from "../db/migrate";
import type { PolicySettings } from "../db/policy";
import type { Database } from "../db/types";

/** The database is not at this release's migration; `message` is the one line to print. */
export class NotMigratedError extends Error {
  override readonly name = "NotMigratedError";
}

export async function prepareDatabase(
  database: Database,
  options: {
    /** DATABASE_URL; unset for the embedded database. */
    url: string | undefined;
    /** `--migrate`: migrate a server's database too (as its owner). */
    migrate: boolean;
    policy?: PolicySettings | undefined;
    generators: readonly GeneratorManifest[];
    /** Who publishes the generators when not migrating, as the audit log names it. */
    actor: string;
  },
): Promise<void> {
  if (!options.url || options.migrate) {
    await migrate(database, { policy: options.policy, generators: options.generators });
    return;
  }
  if (!(await isMigrated(database))) {
    throw new NotMigratedError(
      "the database is not at this release's migration: run `npm run db:migrate` as the owner of Regent's tables first (or start with --migrate as that owner)",
    );
  }
  // Publishing is the application role's to do: the catalog then names what this process runs.
  await publishGenerators(database.db, options.generators, options.actor);
}
