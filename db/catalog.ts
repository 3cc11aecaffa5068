/**
 * The generator catalog as the database keeps it (generators, generator_versions): what a
 * worker's generators publish about themselves, so that the API and the admin page can check
 * a job's input and name its generator without importing generator code.
 */
import { sql } from "drizzle-orm";
import { type Executor, rowsOf } from "./types";

/** A generator's name, as the catalog's CHECK holds it. */
export const GENERATOR_NAME = /^[a-z][a-z0-9_.-]{0,63}$/;
/** A version: printable, without spaces, at most 100 characters. */
export const GENERATOR_VERSION = /^[\x21-\x7e]{1,100}$/;

/** A generator as it is published: its name, its version, and its input as JSON Schema. */
export interface GeneratorManifest {
  name: string;
  version: string;
  /** JSON Schema, draft 2020-12. */
  inputSchema: unknown;
}

/**
 * Publishes `generators` (regent_publish_generators): each version new to the catalog is
 * recorded and audited, and becomes its generator's current version. One statement; publishing
 * what is current already writes nothing. A version published before with another schema is
 * refused whole: a generator whose input changes takes a new version.
 */
export async function publishGenerators(
  db: Executor,
  generators: readonly GeneratorManifest[],
  actor: string,
): Promise<{ name: string; version: string }[]> {
  const p = JSON.stringify({ ctx: { actor }, generators });
  let result: unknown;
  try {
    result = await db.execute(sql`SELECT regent_publish_generators(${p}::jsonb) AS result`);
  } catch (error) {
    const conflict = versionConflict(error);
    if (conflict) {
      throw new Error(
        `generator ${conflict.generator} was published before as version ${conflict.version} with another input schema: give the changed generator a new version`,
        { cause: error },
      );
    }
    throw error;
  }
  const [row] = rowsOf<{ result: { published: { name: string; version: string }[] } | string }>(
    result,
  );
  const answer = typeof row?.result === "string" ? JSON.parse(row.result) : row?.result;
  return answer?.published ?? [];
}

/** The refusal GENERATOR_VERSION_CONFLICT, found under the driver's wrapping. */
function versionConflict(error: unknown): { generator: string; version: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as { code?: unknown; message?: unknown; detail?: unknown };
    if (e.code === "RG003" && e.message === "GENERATOR_VERSION_CONFLICT") {
      return JSON.parse(String(e.detail));
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
