import { eq, type SQL, sql } from "drizzle-orm";
import type { regenerationJobs, retryIntents } from "../../db/schema";
import type { Executor } from "../../db/types";
import { DomainError } from "./errors";

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
type KeysetTable = typeof regenerationJobs | typeof retryIntents;

/**
 * The condition "older than the row the cursor names" for a newest-first list keyed on
 * (created_at, id), or undefined without a cursor. A cursor naming no row was not issued by us.
 */
export async function newestFirstAfter(
  db: Executor,
  table: KeysetTable,
  cursor: string | undefined,
): Promise<SQL | undefined> {
  if (!cursor) return undefined;
  const id = decodeCursor(cursor);
  const [row] = await db.select({ id: table.id }).from(table).where(eq(table.id, id));
  if (!row) throw invalidCursor();
  return sql`(${table.createdAt}, ${table.id}) < (SELECT created_at, id FROM ${table} WHERE id = ${id})`;
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
