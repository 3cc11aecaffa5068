/**
 * Rows that arrive inside JSON. A read that gathers a record and everything shown beside it in
 * one statement (json aggregation, lateral subqueries) receives each row as `to_jsonb(row)`:
 * snake_case keys, timestamps as ISO-8601 text. `rowFromJson` turns one back into the object a
 * Drizzle `select()` of the table returns, key for key and type for type, so that whoever
 * renders it cannot tell the two apart.
 */
import { getTableColumns, type InferSelectModel } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";

/** JSON columns hold the value itself: parsing a JSON string value again would change it. */
const JSON_COLUMNS = new Set(["PgJsonb", "PgJson"]);

export function rowFromJson<T extends PgTable>(
  table: T,
  json: Record<string, unknown>,
): InferSelectModel<T> {
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = json[column.name];
    if (value === null || value === undefined) row[key] = null;
    else if (JSON_COLUMNS.has(column.columnType)) row[key] = value;
    else row[key] = column.mapFromDriverValue(value);
  }
  return row as InferSelectModel<T>;
}

export function rowsFromJson<T extends PgTable>(table: T, json: unknown): InferSelectModel<T>[] {
  if (!Array.isArray(json)) return [];
  return json.map((item) => rowFromJson(table, item as Record<string, unknown>));
}
