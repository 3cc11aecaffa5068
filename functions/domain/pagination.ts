import { DomainError } from "./errors";

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const MAX_PAGE_SIZE = 200;

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
  const invalid = new DomainError("VALIDATION_FAILED", "cursor is not one this API issued", {
    field: "cursor",
  });
  if (cursor.length === 0 || cursor.length > 300 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalid;
  }
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const id = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(id)) throw invalid;
    return id;
  } catch {
    throw invalid;
  }
}

export function pageOf<T extends { id: string | number }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last ? encodeCursor(String(last.id)) : null,
  };
}
