import { and, type InferSelectModel, type SQL, sql } from "drizzle-orm";
import type { regenerationJobs, retryBatches, retryIntents } from "../../db/schema";
import { type Executor, rowsOf } from "../../db/types";
import { DomainError } from "./errors";
import { rowFromJson } from "./json-rows";

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const MAX_PAGE_SIZE = 200;

/** The one refusal for a cursor this API did not hand out. */
export function invalidCursor(): DomainError {
  return new DomainError("VALIDATION_FAILED", "cursor is not one this API issued", {
    field: "cursor",
  });
}

/**
 * Cursors are opaque to clients: base64url of the last item's id. Lists compare the sort key
 * in SQL against the row that id names, so timestamps never pass through JavaScript's
 * millisecond dates (PostgreSQL keeps microseconds).
 */
export function encodeCursor(id: string): string {
  const bytes = new TextEncoder().encode(id);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string): string {
  if (cursor.length === 0 || cursor.length > 300 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalidCursor();
  }
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const id = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
    if (/^[A-Za-z0-9_-]{1,200}$/.test(id)) return id;
  } catch {
    // Not base64url or not UTF-8: refused below like any other foreign cursor.
  }
  throw invalidCursor();
}

/** Tables listed newest first by (created_at, id). */
export type KeysetTable = typeof regenerationJobs | typeof retryIntents | typeof retryBatches;

export interface KeysetQuery {
  /** Conditions on the table's columns, all of which a row must meet. */
  where?: SQL[];
  limit: number;
  cursor?: string | undefined;
  /**
   * A jsonb object computed for each row of the page from the columns of `page` (the row), as
   * a list shows beside each item: what retried a job, the job an intent created.
   */
  extra?: SQL;
  /** Other values the same statement reads beside the page (counts, filter choices), by name. */
  beside?: Record<string, SQL>;
}

export interface KeysetPage<T> extends Page<T> {
  /** `extra` for each item, in the same order. */
  extras: Record<string, unknown>[];
  /** The `beside` values, by name. */
  beside: Record<string, unknown>;
}

/**
 * One page of a newest-first list keyed on (created_at, id), in one statement: the cursor is
 * checked (a cursor naming no row was not issued by us: VALIDATION_FAILED), the rows after it
 * read, and whatever the caller asks to read beside them, together. The sort key is compared in
 * SQL against the row the cursor names, so timestamps never pass through JavaScript's
 * millisecond dates (PostgreSQL keeps microseconds).
 */
export async function newestFirstPage<Row extends InferSelectModel<KeysetTable>>(
  db: Executor,
  table: KeysetTable,
  query: KeysetQuery,
): Promise<KeysetPage<Row>> {
  const conditions = [...(query.where ?? [])];
  const cursorId = query.cursor ? decodeCursor(query.cursor) : null;
  if (cursorId !== null) {
    conditions.push(
      sql`(${table.createdAt}, ${table.id}) < (SELECT created_at, id FROM ${table} WHERE id = ${cursorId})`,
    );
  }
  const where = conditions.length > 0 ? sql`WHERE ${and(...conditions)}` : sql``;
  const extra = query.extra ?? sql`'{}'::jsonb`;
  const beside = Object.entries(query.beside ?? {});
  const result = await db.execute(sql`
    SELECT ${cursorId === null ? sql`true` : sql`EXISTS (SELECT 1 FROM ${table} WHERE id = ${cursorId})`} AS known,
           (SELECT coalesce(jsonb_agg(jsonb_build_object('row', to_jsonb(page), 'extra', ${extra})
                                      ORDER BY page.created_at DESC, page.id DESC), '[]'::jsonb)
            FROM (SELECT * FROM ${table} ${where}
                  ORDER BY created_at DESC, id DESC LIMIT ${query.limit + 1}) page) AS rows
           ${sql.join(
             beside.map(([name, value]) => sql`, ${value} AS ${sql.identifier(name)}`),
             sql``,
           )}`);
  const [row] = rowsOf<Record<string, unknown> & { known: boolean; rows: unknown }>(result);
  if (row?.known !== true) throw invalidCursor();
  const items = (Array.isArray(row.rows) ? row.rows : []) as {
    row: Record<string, unknown>;
    extra: Record<string, unknown>;
  }[];
  const page = pageOf(
    items.map((item) => rowFromJson(table, item.row) as Row),
    query.limit,
  );
  return {
    ...page,
    extras: items.slice(0, page.items.length).map((item) => item.extra ?? {}),
    beside: Object.fromEntries(beside.map(([name]) => [name, row[name]])),
  };
}

/** The audit log pages by its bigint id, which only grows; the cursor carries it. */
export function decodeNumericCursor(cursor: string): number {
  const id = Number(decodeCursor(cursor));
  if (!Number.isSafeInteger(id)) throw invalidCursor();
  return id;
}

export function pageOf<T extends { id: string | number }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last ? encodeCursor(String(last.id)) : null,
  };
}
