import { publishGenerators } from "../../db/catalog";
import type { Executor } from "../../db/types";

/**
 * Puts generators named `names` into the catalog, as a worker that runs them would publish
 * them: version `<name>@test`, any input. The built-in `demo` and `http` are there already
 * (the template database is migrated as a deploy leaves it).
 */
export async function catalogue(db: Executor, ...names: string[]): Promise<void> {
  const extra = names.filter((name) => name !== "demo" && name !== "http");
  if (extra.length === 0) return;
  await publishGenerators(
    db,
    extra.map((name) => ({ name, version: `${name}@test`, inputSchema: {} })),
    "system:test",
  );
}
