/**
 * Rows the API shows column for column (functions/http/serialize.ts, `shown`): their schema in
 * the OpenAPI document names exactly the table's columns, so a new column is documented before
 * it is answered, and a documented field is never missing.
 */
import { getTableColumns } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { retryBatches, retryIntents } from "../../db/schema";
import { rowFromJson } from "../../functions/domain/json-rows";
import { RetryBatchSchema, RetryIntentSchema } from "../../functions/http/schemas";
import { batchJson, intentJson } from "../../functions/http/serialize";

describe("a row shown column for column", () => {
  it.each([
    ["a retry intent", retryIntents, RetryIntentSchema],
    ["a retry batch", retryBatches, RetryBatchSchema],
  ] as const)("%s: its schema names exactly the table's columns", (_, table, schema) => {
    expect(Object.keys(schema.shape).sort()).toEqual(Object.keys(getTableColumns(table)).sort());
  });

  it("has its timestamps as ISO-8601 text and every other value as it is", () => {
    const at = new Date("2026-12-07T10:00:00.123Z");
    const batch = {
      id: "b1",
      filter: { errorCode: "X" },
      kind: "RETRY" as const,
      reasonCode: "OTHER" as const,
      reasonText: "why",
      approvedBy: "token:a",
      approvedAt: at,
      jobCount: 2,
      createdAt: at,
    };
    expect(batchJson(batch)).toEqual({
      ...batch,
      approvedAt: at.toISOString(),
      createdAt: at.toISOString(),
    });
    // A row as the database answers it (snake_case, timestamps as text), whatever its columns.
    const intent = intentJson(
      rowFromJson(retryIntents, {
        id: "i1",
        status: "PENDING",
        budget_override: false,
        approved_at: at.toISOString(),
        expires_at: at.toISOString(),
      }),
    );
    expect(intent).toMatchObject({
      consumedAt: null,
      expiresAt: "2026-12-07T10:00:00.123Z",
      budgetOverride: false,
    });
  });
});
