import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pgErrorOf } from "../../functions/domain/errors";
import { decodeCursor, encodeCursor, pageOf } from "../../functions/domain/pagination";

describe("cursors", () => {
  it("round-trip any id they are given", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,200}$/), (id) => {
        const cursor = encodeCursor(id);
        expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeCursor(cursor)).toBe(id);
      }),
    );
  });

  it("refuse anything they did not issue with VALIDATION_FAILED, never another error", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (junk) => {
        let decoded: string | undefined;
        try {
          decoded = decodeCursor(junk);
        } catch (error) {
          expect(error).toMatchObject({ code: "VALIDATION_FAILED", details: { field: "cursor" } });
          return;
        }
        expect(decoded).toMatch(/^[A-Za-z0-9_-]{1,200}$/);
      }),
    );
  });

  it("pageOf keeps `limit` items and points the cursor at the last one only when more exist", () => {
    const rows = [{ id: "a" }, { id: "b" }, { id: "c" }];
    expect(pageOf(rows, 2)).toEqual({
      items: [{ id: "a" }, { id: "b" }],
      nextCursor: encodeCursor("b"),
    });
    expect(pageOf(rows, 3)).toEqual({ items: rows, nextCursor: null });
  });
});

describe("pgErrorOf", () => {
  it("finds the PostgreSQL error under a driver's wrapping", () => {
    const pg = Object.assign(new Error('duplicate key value violates unique constraint "x_key"'), {
      code: "23505",
      constraint: "x_key",
    });
    const wrapped = new Error("Failed query", { cause: pg });
    expect(pgErrorOf(wrapped)).toMatchObject({ code: "23505", constraint: "x_key" });
    expect(pgErrorOf(new Error("plain"))).toBeUndefined();
  });
});
