/**
 * The refusals of the database's units of work (SQLSTATE RG003) become the DomainErrors the
 * application always answered with: every code the migration raises has its sentence here, and
 * nothing else is taken for a refusal.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MIGRATIONS_FOLDER } from "../../db/migrate";
import { DomainError, ERROR_CODES } from "../../functions/domain/errors";
import { REFUSAL_SQLSTATE, refusal, refusalFrom } from "../../functions/domain/refusals";

/** A driver error as node-postgres, PGlite and Neon shape it, wrapped as Drizzle wraps it. */
const wrapped = (fields: Record<string, unknown>) =>
  Object.assign(new Error("Failed query: SELECT regent_…"), {
    cause: Object.assign(new Error(String(fields.message)), fields),
  });

describe("refusalFrom", () => {
  it("turns an RG003 refusal into the DomainError with its code, sentence and details", () => {
    const error = refusalFrom(
      wrapped({
        code: REFUSAL_SQLSTATE,
        message: "INTENT_NOT_PENDING",
        detail: JSON.stringify({ intentId: "i1", status: "CONSUMED", jobId: "j2" }),
      }),
    );
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({
      code: "INTENT_NOT_PENDING",
      message: "retry intent i1 is CONSUMED, not PENDING",
      details: { intentId: "i1", status: "CONSUMED", jobId: "j2" },
    });
  });

  it("words four-eyes refusals for an intent and for a batch", () => {
    expect(refusal("FOUR_EYES_REQUIRED", { intentId: "i", approvedBy: "a" }).message).toBe(
      "the admin who approved this intent cannot also execute it",
    );
    expect(refusal("FOUR_EYES_REQUIRED", { batchId: "b", approvedBy: "a" }).message).toBe(
      "the admin who approved this batch cannot also execute it",
    );
  });

  it("leaves every other error alone: the triggers' RG001, a unique violation, an unknown code", () => {
    expect(refusalFrom(wrapped({ code: "RG001", message: "refused" }))).toBeUndefined();
    expect(refusalFrom(wrapped({ code: "23505", message: "duplicate key" }))).toBeUndefined();
    expect(
      refusalFrom(wrapped({ code: REFUSAL_SQLSTATE, message: "NOT_A_CODE", detail: "{}" })),
    ).toBeUndefined();
    expect(refusalFrom(new Error("plain"))).toBeUndefined();
  });

  it("has a sentence for every code a migration refuses with", () => {
    const sql = readdirSync(MIGRATIONS_FOLDER)
      .filter((name) => name.endsWith(".sql"))
      .map((name) => readFileSync(`${MIGRATIONS_FOLDER}/${name}`, "utf8"))
      .join("\n");
    const raised = [
      ...new Set([...sql.matchAll(/regent_refuse_with\('([A-Z_]+)'/g)].map((m) => m[1])),
    ];
    expect(raised.length).toBeGreaterThan(10);
    for (const code of raised) {
      expect(ERROR_CODES, code).toContain(code);
      const error = refusal(code as (typeof ERROR_CODES)[number], {});
      expect(error.message, code).not.toBe(code);
    }
  });
});
