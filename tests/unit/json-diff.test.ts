import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { diffJson, diffLines, MAX_EDIT_LENGTH, prettyCanonical } from "../../web/json-diff";

const changed = (lines: { text: string; changed: boolean }[]) =>
  lines.filter((l) => l.changed).map((l) => l.text.trim());

describe("prettyCanonical", () => {
  it("sorts keys at every depth and indents by two spaces", () => {
    expect(prettyCanonical({ b: 1, a: { d: [2, { z: 0, y: 1 }], c: null } })).toBe(
      [
        "{",
        '  "a": {',
        '    "c": null,',
        '    "d": [',
        "      2,",
        "      {",
        '        "y": 1,',
        '        "z": 0',
        "      }",
        "    ]",
        "  },",
        '  "b": 1',
        "}",
      ].join("\n"),
    );
  });

  it("writes undefined as null, like a missing output", () => {
    expect(prettyCanonical(undefined)).toBe("null");
  });
});

describe("diffJson", () => {
  it("marks nothing when two values differ only in key order", () => {
    const diff = diffJson({ text: "A", n: 1 }, { n: 1, text: "A" });
    expect(diff.removed + diff.added).toBe(0);
    expect(diff.before.map((l) => l.text)).toEqual(diff.after.map((l) => l.text));
  });

  it("marks the line of a value that changed on both sides, and nothing else", () => {
    const diff = diffJson(
      { text: "HELLO WORLD", lang: "en", n: 3 },
      { text: "HELLO", lang: "en", n: 3 },
    );
    expect(changed(diff.before)).toEqual(['"text": "HELLO WORLD"']);
    expect(changed(diff.after)).toEqual(['"text": "HELLO"']);
    expect(diff).toMatchObject({ removed: 1, added: 1 });
  });

  it("marks a key only one side has, on that side alone", () => {
    const diff = diffJson({ text: "hi", failAttempts: 5 }, { text: "hi" });
    expect(changed(diff.before)).toEqual(['"failAttempts": 5,']);
    expect(changed(diff.after)).toEqual([]);
    expect(diff).toMatchObject({ removed: 1, added: 0 });
  });

  it("marks a whole value replaced by another of another type", () => {
    const diff = diffJson({ a: [1, 2] }, { a: "12" });
    expect(changed(diff.before)).toEqual(['"a": [', "1,", "2", "]"]);
    expect(changed(diff.after)).toEqual(['"a": "12"']);
  });

  it("keeps every line of both sides, in order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const diff = diffJson(a, b);
        expect(diff.before.map((l) => l.text).join("\n")).toBe(prettyCanonical(a));
        expect(diff.after.map((l) => l.text).join("\n")).toBe(prettyCanonical(b));
        // The unmarked lines are the same sequence on both sides: what the two share.
        const kept = (lines: typeof diff.before) =>
          lines.filter((l) => !l.changed).map((l) => l.text);
        expect(kept(diff.before)).toEqual(kept(diff.after));
        // Equal values differ nowhere.
        const same = diffJson(a, structuredClone(a));
        expect(same.removed + same.added).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});

describe("diffLines", () => {
  it("finds the longest run of shared lines, not only the common head and tail", () => {
    const { before, after } = diffLines(["a", "x", "b", "c", "y"], ["a", "b", "z", "c"]);
    expect(before.map((l) => l.changed)).toEqual([false, true, false, false, true]);
    expect(after.map((l) => l.changed)).toEqual([false, false, true, false]);
  });

  it("marks the differing middle whole past its budget of edits, keeping head and tail", () => {
    const size = MAX_EDIT_LENGTH;
    const a = ["{", ...Array.from({ length: size }, (_, i) => `a${i}`), "shared", "}"];
    const b = ["{", ...Array.from({ length: size }, (_, i) => `b${i}`), "shared", "}"];
    // One line the two middles share: exact comparison would keep it, the coarse one does not.
    a.splice(2, 0, "common");
    b.splice(3, 0, "common");
    const { before, after } = diffLines(a, b);
    expect(before[0]?.changed).toBe(false);
    expect(before.at(-1)?.changed).toBe(false);
    expect(before.at(-2)?.changed).toBe(false);
    expect(before.slice(1, -2).every((l) => l.changed)).toBe(true);
    expect(after.slice(1, -2).every((l) => l.changed)).toBe(true);
  });
});
