/**
 * Finding a job, a retry intent or a retry batch by the first characters of its id, as an
 * admin pastes one from a log, an alert or a message. Ids are a letter and hex digits
 * (regent_new_id; older ones lower-case letters and digits), so a prefix is read as a range of
 * each table's primary key: a search costs its matches, whatever the history. Nothing here
 * writes.
 */
import { sql } from "drizzle-orm";
import { type Executor, rowsOf } from "../../db/types";
import { DomainError } from "./errors";

/** The fewest characters a search takes: fewer would match too much to be a search by id. */
export const MIN_ID_PREFIX = 6;

/** More than any id Regent makes; a longer text is not an id. */
const MAX_ID_PREFIX = 64;

/** The most matches shown of each kind; past it the search says there are more. */
export const MAX_MATCHES = 20;

export type IdKind = "job" | "intent" | "batch";

export interface IdMatch {
  kind: IdKind;
  id: string;
  /** A job's or an intent's status; a batch's kind. */
  state: string;
  /** A job's generator, an intent's source job, a batch's job count. */
  about: string;
  createdAt: Date;
}

export interface IdSearch {
  /** The prefix as searched: trimmed, lower-case. */
  prefix: string;
  matches: IdMatch[];
  /** Whether some kind had more than MAX_MATCHES matches. */
  more: boolean;
}

/**
 * The prefix a search reads from what was typed (trimmed and lower-cased, as ids are), or
 * VALIDATION_FAILED (field `q`) saying what is wrong with it.
 */
export function idPrefix(typed: string): string {
  const prefix = typed.trim().toLowerCase();
  const refuse = (message: string) => new DomainError("VALIDATION_FAILED", message, { field: "q" });
  if (!/^[a-z0-9]*$/.test(prefix)) {
    throw refuse(
      "an id is made of letters and digits only: paste the id itself, or its first characters",
    );
  }
  if (prefix.length < MIN_ID_PREFIX) {
    throw refuse(
      `type at least ${MIN_ID_PREFIX} characters of an id (${prefix.length} given): fewer would match too many jobs to be a search by id`,
    );
  }
  if (prefix.length > MAX_ID_PREFIX) {
    throw refuse(`an id is at most ${MAX_ID_PREFIX} characters; this is ${prefix.length}`);
  }
  return prefix;
}

/**
 * The first string after every string that starts with `prefix`, in the order of letters and
 * digits (digits first) that both the C collation and a language's keep for them; undefined
 * when there is none (a prefix of z's).
 */
function after(prefix: string): string | undefined {
  const last = prefix.at(-1);
  if (last === undefined) return undefined;
  const head = prefix.slice(0, -1);
  if (last === "z") return after(head);
  return head + (last === "9" ? "a" : String.fromCharCode(last.charCodeAt(0) + 1));
}

/**
 * The jobs, intents and batches whose id starts with `prefix` (checked by idPrefix), up to
 * MAX_MATCHES of each, in one statement. Each table's primary key is read over the prefix's
 * range; `starts_with` keeps exactly the ids that begin with it.
 */
export async function findByIdPrefix(db: Executor, prefix: string): Promise<IdSearch> {
  const end = after(prefix);
  const range = (table: string) =>
    sql`${sql.raw(table)}.id >= ${prefix} ${end === undefined ? sql`` : sql`AND ${sql.raw(table)}.id < ${end}`}
        AND starts_with(${sql.raw(table)}.id, ${prefix})`;
  const limit = MAX_MATCHES + 1;
  const result = await db.execute(sql`
    SELECT coalesce(jsonb_agg(m ORDER BY m.kind, m.id), '[]'::jsonb) AS matches FROM (
      (SELECT 'job' AS kind, j.id, j.status::text AS state, j.generator AS about,
              regent_iso(j.created_at) AS created_at
       FROM regeneration_jobs j WHERE ${range("j")} ORDER BY j.id LIMIT ${limit})
      UNION ALL
      (SELECT 'intent', i.id, i.status::text, i.source_job_id, regent_iso(i.created_at)
       FROM retry_intents i WHERE ${range("i")} ORDER BY i.id LIMIT ${limit})
      UNION ALL
      (SELECT 'batch', b.id, b.kind::text, b.job_count::text, regent_iso(b.created_at)
       FROM retry_batches b WHERE ${range("b")} ORDER BY b.id LIMIT ${limit})
    ) m`);
  const [row] = rowsOf<{
    matches: { kind: IdKind; id: string; state: string; about: string; created_at: string }[];
  }>(result);
  const all = row?.matches ?? [];
  const kept = (["job", "intent", "batch"] as const).flatMap((kind) =>
    all.filter((m) => m.kind === kind).slice(0, MAX_MATCHES),
  );
  return {
    prefix,
    matches: kept.map((m) => ({
      kind: m.kind,
      id: m.id,
      state: m.state,
      about: m.about,
      createdAt: new Date(m.created_at),
    })),
    more: kept.length < all.length,
  };
}
