import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, sha256Hex } from "../../functions/domain/canonical-json";

describe("canonicalJson", () => {
  it("sorts keys recursively and writes no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: "x" }], c: true } })).toBe(
      '{"a":{"c":true,"d":[3,{"y":"x","z":null}]},"b":1}',
    );
  });

  it("sorts keys by UTF-16 code units, as RFC 8785 does", () => {
    expect(canonicalJson({ "\u00e9": 1, z: 2, A: 3, "1": 4 })).toBe('{"1":4,"A":3,"z":2,"é":1}');
  });

  it("keeps array order and omits undefined properties like JSON.stringify", () => {
    expect(canonicalJson([3, 1, 2])).toBe("[3,1,2]");
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
  });

  it("refuses what JSON cannot hold", () => {
    for (const bad of [undefined, Number.NaN, Number.POSITIVE_INFINITY, 1n, () => 1, Symbol("s")]) {
      expect(() => canonicalJson(bad)).toThrow(TypeError);
    }
    expect(() => canonicalJson([undefined])).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/contains itself/);
  });

  it("allows the same object twice when it is not a cycle", () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it("round-trips through JSON.parse to an equal value, whatever the key order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });
});

describe("sha256Hex", () => {
  it("matches the FIPS 180-2 test vector", async () => {
    expect(await sha256Hex("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("hashes UTF-8, and gives equal content equal digests", async () => {
    expect(await sha256Hex("\u00e9")).toBe(
      "4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c",
    );
    expect(await sha256Hex(canonicalJson({ a: 1, b: [2] }))).toBe(
      await sha256Hex(canonicalJson({ b: [2], a: 1 })),
    );
  });
});

describe("canonicalJson of request bodies (idempotency keys)", () => {
  it("is the same for the same value whatever the key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { e: 3, f: 2 }] }, b: 1 }),
    );
  });

  it("parses back to the value it encodes", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it("tells different values apart", () => {
    expect(canonicalJson({ a: "1" })).not.toBe(canonicalJson({ a: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });
});
