/**
 * Two JSON values compared line by line, for the pages that show an old value beside its
 * replacement (a superseded output and the latest, an input and its correction). Both are
 * pretty-printed with their keys sorted, so that the same key sits on the same line on both
 * sides whatever order the documents were written in; a line is marked when the shortest edit
 * from one to the other (jsdiff) removes or adds it.
 */
import { diffArrays } from "diff";

/** One line of a side, and whether it is missing from the other side. */
export interface DiffLine {
  text: string;
  changed: boolean;
}

export interface JsonDiff {
  before: DiffLine[];
  after: DiffLine[];
  /** Lines only the old value has, and lines only the new value has. */
  removed: number;
  added: number;
}

/**
 * The most lines two values may differ by and still be compared line by line: the comparison
 * (jsdiff's Myers algorithm) costs in proportion to the lines times the differences, and a page
 * is rendered inside a Worker's CPU budget. Past it, every line between the common head and tail
 * is marked, which is still true, only coarser.
 */
export const MAX_EDIT_LENGTH = 1_000;

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value !== null && typeof value === "object") {
    const object = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(object)
        .sort()
        .map((key) => [key, sortedKeys(object[key])]),
    );
  }
  return value;
}

/** A JSON value pretty-printed (two spaces) with every object's keys sorted. */
export function prettyCanonical(value: unknown): string {
  return JSON.stringify(sortedKeys(value ?? null), null, 2) ?? "null";
}

/** Two lists of lines, each line marked when the other list does not share it. */
export function diffLines(a: string[], b: string[]): Pick<JsonDiff, "before" | "after"> {
  const parts = diffArrays(a, b, { maxEditLength: MAX_EDIT_LENGTH });
  if (!parts) {
    let head = 0;
    while (head < a.length && head < b.length && a[head] === b[head]) head++;
    let tail = 0;
    while (
      tail < a.length - head &&
      tail < b.length - head &&
      a[a.length - 1 - tail] === b[b.length - 1 - tail]
    ) {
      tail++;
    }
    const mark = (lines: string[]): DiffLine[] =>
      lines.map((text, i) => ({ text, changed: i >= head && i < lines.length - tail }));
    return { before: mark(a), after: mark(b) };
  }
  const before: DiffLine[] = [];
  const after: DiffLine[] = [];
  for (const part of parts) {
    for (const text of part.value) {
      if (!part.added) before.push({ text, changed: part.removed });
      if (!part.removed) after.push({ text, changed: part.added });
    }
  }
  return { before, after };
}

/** `before` and `after` side by side, line by line, with what differs marked. */
export function diffJson(before: unknown, after: unknown): JsonDiff {
  const { before: left, after: right } = diffLines(
    prettyCanonical(before).split("\n"),
    prettyCanonical(after).split("\n"),
  );
  return {
    before: left,
    after: right,
    removed: left.filter((l) => l.changed).length,
    added: right.filter((l) => l.changed).length,
  };
}
