/**
 * The generator catalog as the API and the admin page know it: each generator the workers
 * published (name, current version, input JSON Schema), its versions, and the brake — a pause
 * an admin pulls, with a reason, that holds a generator's jobs PENDING until it is resumed.
 * Nothing here imports generator code: the workers publish what they run (db/catalog.ts), and
 * this reads it.
 */
import { type OutputUnit, Validator } from "@cfworker/json-schema";
import { sql } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import {
  type Generator,
  type GeneratorVersion,
  generators,
  generatorVersions,
} from "../../db/schema";
import { type Executor, rowsOf } from "../../db/types";
import type { AuditContext } from "./audit";
import { DomainError } from "./errors";
import { rowFromJson, rowsFromJson } from "./json-rows";
import { raisedRefusal } from "./refusals";
import { runUnit } from "./units";

/** A generator of the catalog with its current version. */
export interface CatalogEntry {
  generator: Generator;
  version: GeneratorVersion;
}

/** A generator with every version it published, newest first. */
export interface GeneratorDetail extends CatalogEntry {
  versions: GeneratorVersion[];
}

type JsonObject = Record<string, unknown>;

function entryFrom(json: { generator: JsonObject; version: JsonObject }): CatalogEntry {
  return {
    generator: rowFromJson(generators, json.generator),
    version: rowFromJson(generatorVersions, json.version),
  };
}

const ENTRY = sql`jsonb_build_object('generator', to_jsonb(g), 'version', to_jsonb(v))`;
const CURRENT = sql`generators g JOIN generator_versions v ON v.generator = g.name AND v.version = g.current_version`;

/** Every generator of the catalog, by name. One statement. */
export async function listGenerators(db: Executor): Promise<CatalogEntry[]> {
  const result = await db.execute(
    sql`SELECT ${ENTRY} AS entry FROM ${CURRENT} ORDER BY g.name COLLATE "C"`,
  );
  return rowsOf<{ entry: { generator: JsonObject; version: JsonObject } }>(result).map((row) =>
    entryFrom(row.entry),
  );
}

/** One generator with its versions, newest first; GENERATOR_NOT_FOUND. One statement. */
export async function generatorDetail(db: Executor, name: string): Promise<GeneratorDetail> {
  const result = await db.execute(sql`
    SELECT ${ENTRY} AS entry,
           (SELECT jsonb_agg(to_jsonb(w) ORDER BY w.published_at DESC, w.version DESC)
            FROM generator_versions w WHERE w.generator = g.name) AS versions
    FROM ${CURRENT} WHERE g.name = ${name}`);
  const [row] = rowsOf<{
    entry: { generator: JsonObject; version: JsonObject };
    versions: unknown;
  }>(result);
  if (!row) throw notFound(name);
  return { ...entryFrom(row.entry), versions: rowsFromJson(generatorVersions, row.versions) };
}

function notFound(name: string): DomainError {
  return new DomainError("GENERATOR_NOT_FOUND", `no generator named "${name}" is in the catalog`, {
    generator: name,
  });
}

/**
 * Pauses a generator (regent_pause_generator): its jobs are accepted and wait PENDING, no
 * worker claims them, none is failed. Audited as GENERATOR_PAUSED with the reason. Refused:
 * GENERATOR_NOT_FOUND, GENERATOR_ALREADY_PAUSED.
 */
export async function pauseGenerator(
  db: Executor,
  ctx: AuditContext,
  name: string,
  reasonText: string,
): Promise<CatalogEntry> {
  return entryFrom(await runUnit(db, "regent_pause_generator", ctx, { name, reasonText }));
}

/**
 * Resumes a paused generator (regent_resume_generator): its waiting jobs become claimable, and
 * the listening workers are woken. Audited as GENERATOR_RESUMED with the reason. Refused:
 * GENERATOR_NOT_FOUND, GENERATOR_NOT_PAUSED.
 */
export async function resumeGenerator(
  db: Executor,
  ctx: AuditContext,
  name: string,
  reasonText: string,
): Promise<CatalogEntry> {
  return entryFrom(await runUnit(db, "regent_resume_generator", ctx, { name, reasonText }));
}

/** What the admin page shows of each generator beside its catalog entry. */
export interface GeneratorActivity extends CatalogEntry {
  /** Its jobs waiting PENDING now (a paused generator's pile up here). */
  pending: number;
  /** Of its jobs created in the last 24 hours that finished, how many FAILED, and of how many. */
  failedLastDay: number;
  finishedLastDay: number;
}

/**
 * The catalog with each generator's pending jobs and its last day's failures, in one statement:
 * the pending count walks the PENDING jobs (regeneration_jobs_pending_idx), the last day's
 * outcomes the generator's jobs created in it (regeneration_jobs_generator_created_idx).
 */
export async function generatorActivity(db: Executor): Promise<GeneratorActivity[]> {
  const result = await db.execute(sql`
    SELECT ${ENTRY} AS entry,
           (SELECT count(*) FROM regeneration_jobs j
            WHERE j.status = 'PENDING' AND j.generator = g.name)::int AS pending,
           d.failed::int AS failed, d.finished::int AS finished
    FROM ${CURRENT}
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE j.status = 'FAILED') AS failed,
             count(*) FILTER (WHERE j.status IN ('COMPLETED', 'FAILED')) AS finished
      FROM regeneration_jobs j
      WHERE j.generator = g.name AND j.created_at > statement_timestamp() - interval '24 hours'
    ) d
    ORDER BY g.name COLLATE "C"`);
  return rowsOf<{
    entry: { generator: JsonObject; version: JsonObject };
    pending: number;
    failed: number;
    finished: number;
  }>(result).map((row) => ({
    ...entryFrom(row.entry),
    pending: Number(row.pending),
    failedLastDay: Number(row.failed),
    finishedLastDay: Number(row.finished),
  }));
}

/** One thing wrong with an input, where (a path into the request body) and what. */
export interface InputIssue {
  path: (string | number)[];
  code: string;
  message: string;
}

/** A generator's current input schema, compiled, as the API checks submitted inputs with it. */
export interface InputSchema {
  generator: string;
  version: string;
  schemaSha256: string;
  /** The input's issues, at most 20; none when it matches. */
  issues(input: unknown): InputIssue[];
}

/**
 * The input schemas the API has read from the catalog, by generator. A schema is learnt when
 * the database refuses a submission for checking against no schema or an old one
 * (GENERATOR_SCHEMA_CHANGED carries the current one), so that the next submission of that
 * generator is checked here and costs one statement. A cache only: the database holds each
 * submission to the schema current when it commits. It holds one entry per generator of the
 * catalog; a name the catalog does not know is never learnt.
 */
export class InputSchemas {
  readonly #byName = new Map<string, InputSchema>();

  get(generator: string): InputSchema | undefined {
    return this.#byName.get(generator);
  }

  /**
   * `input` checked against the schemas in hand: of `generator` alone when the caller knows it,
   * of every generator known here when it does not (a retry's input is for its source's).
   * `checkedAgainst` (generator → schema SHA-256) names those it matches, as the database's
   * units take it; `failed`, those it does not.
   */
  check(
    input: unknown,
    generator?: string,
  ): { checkedAgainst: Record<string, string>; failed: Map<string, InputSchema> } {
    const candidates = generator
      ? [this.#byName.get(generator)].filter((s) => s !== undefined)
      : [...this.#byName.values()];
    const checkedAgainst: Record<string, string> = {};
    const failed = new Map<string, InputSchema>();
    for (const schema of candidates) {
      if (schema.issues(input).length === 0) checkedAgainst[schema.generator] = schema.schemaSha256;
      else failed.set(schema.generator, schema);
    }
    return { checkedAgainst, failed };
  }

  /** Compiles and keeps the schema a GENERATOR_SCHEMA_CHANGED refusal carries. */
  learn(details: Record<string, unknown>): InputSchema {
    const schema = compile(
      String(details.generator),
      String(details.version),
      String(details.schemaSha256),
      details.inputSchema,
    );
    this.#byName.set(schema.generator, schema);
    return schema;
  }
}

/**
 * Runs a unit of work that holds an input to its generator's current schema
 * (regent_checked_input) — `run(executor, checkedAgainst)` — with the schemas in hand that the
 * input matches. The database refuses a map that does not name the current schema, with that
 * schema (GENERATOR_SCHEMA_CHANGED): when it is the one in hand, the input fails it and is
 * refused here (VALIDATION_FAILED naming the paths); otherwise it is learnt and the unit asked
 * again. An input is never refused on the word of a schema in hand alone: a release may have
 * published one that accepts it. So a valid input costs one statement once its generator's
 * schema is known, two the first time, and a refused one costs one.
 *
 * Inside a transaction the attempt gets a savepoint, so that a refusal does not end it.
 */
export async function withCheckedInput<T>(
  db: Executor,
  schemas: InputSchemas,
  input: unknown,
  generator: string | undefined,
  run: (executor: Executor, checkedAgainst: Record<string, string>) => Promise<T>,
): Promise<T> {
  // A schema learnt and at once replaced again (two releases published meanwhile) is rare; a
  // third time would mean publications without end.
  for (let attempt = 1; ; attempt++) {
    const { checkedAgainst, failed } = schemas.check(input, generator);
    const once = (executor: Executor) => run(executor, checkedAgainst);
    try {
      return await (db instanceof PgTransaction ? db.transaction(once) : once(db));
    } catch (error) {
      const raised = raisedRefusal(error);
      if (raised?.code !== "GENERATOR_SCHEMA_CHANGED" || attempt >= 3) throw error;
      // The current schema is one the input was checked against, and failed: refused. (What
      // this process learnt meanwhile says nothing about what this attempt checked.)
      const checked = failed.get(String(raised.details.generator));
      if (checked && checked.schemaSha256 === raised.details.schemaSha256) {
        throw inputRefused(checked, checked.issues(input));
      }
      schemas.learn(raised.details);
    }
  }
}

/** The schemas of callers that keep none of their own (the CLI, scripts, tests): this process's. */
export const processInputSchemas = new InputSchemas();

const MAX_ISSUES = 20;

/**
 * A JSON Schema (draft 2020-12) validator that generates no code (@cfworker/json-schema: a
 * Worker may not compile functions at run time). Only the innermost failures are reported: a
 * property that fails makes its object's `properties` fail too, which says nothing more.
 */
function compile(
  generator: string,
  version: string,
  schemaSha256: string,
  inputSchema: unknown,
): InputSchema {
  const validator = new Validator(inputSchema as object, "2020-12", false);
  return {
    generator,
    version,
    schemaSha256,
    issues(input) {
      const { valid, errors } = validator.validate(input);
      if (valid) return [];
      const leaves = errors.filter(
        (e) => !errors.some((o) => o.keywordLocation.startsWith(`${e.keywordLocation}/`)),
      );
      return leaves.slice(0, MAX_ISSUES).map((e) => issueOf(e, input));
    },
  };
}

function issueOf(error: OutputUnit, input: unknown): InputIssue {
  const path: (string | number)[] = ["input"];
  let at: unknown = input;
  const pointer = error.instanceLocation.replace(/^#\/?/, "");
  for (const raw of pointer === "" ? [] : pointer.split("/")) {
    const segment = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    const step = Array.isArray(at) && /^\d+$/.test(segment) ? Number(segment) : segment;
    path.push(step);
    at = at !== null && typeof at === "object" ? (at as JsonObject)[step as string] : undefined;
  }
  const message = error.error.length > 300 ? `${error.error.slice(0, 300)}…` : error.error;
  return { path, code: error.keyword, message };
}

/** VALIDATION_FAILED for an input its generator's current schema refuses, naming the paths. */
export function inputRefused(schema: InputSchema, issues: InputIssue[]): DomainError {
  const [first] = issues;
  const where = first ? `${first.path.join(".")}: ${first.message}` : "";
  return new DomainError(
    "VALIDATION_FAILED",
    `input does not match the input schema of ${schema.version}${where ? ` (${where})` : ""}`,
    {
      target: "body",
      field: "input",
      generator: schema.generator,
      version: schema.version,
      issues,
    },
  );
}
