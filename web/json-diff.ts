/**
 * Two JSON values compared line by line, for the pages that show an old value beside its
 * replacement (a superseded output and the latest, an input and its correction). Both are
 * pretty-printed with their keys sorted, so that the same key sits on the same line on both
 * sides whatever order the documents were written in; a line is marked when it is not part of
 * the longest run of lines the two share.
 */

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
 * The lines compared exactly once the common head and tail are set aside: the comparison costs
 * their product in steps, and a page is rendered inside a Worker's CPU budget. Two values that
 * differ over 500 lines each still compare exactly (250,000 steps, about 6 ms measured under
 * Node 22; 1,000 lines each took 15 to 30 ms); past that the differing middle is marked whole,
 * which is still true, only coarser.
 */
export const EXACT_DIFF_CELLS = 250_000;

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

/** Which lines of `a` and of `b` belong to a longest common subsequence of the two. */
function commonLines(a: string[], b: string[]): { inA: boolean[]; inB: boolean[] } {
  const inA = a.map(() => false);
  const inB = b.map(() => false);
  // lengths[i][j]: the longest common subsequence of a[i..] and b[j..], one row at a time.
  const width = b.length + 1;
  const lengths = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lengths[i * width + j] =
        a[i] === b[j]
          ? (lengths[(i + 1) * width + j + 1] ?? 0) + 1
          : Math.max(lengths[(i + 1) * width + j] ?? 0, lengths[i * width + j + 1] ?? 0);
    }
  }
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      inA[i++] = true;
      inB[j++] = true;
    } else if ((lengths[(i + 1) * width + j] ?? 0) >= (lengths[i * width + j + 1] ?? 0)) {
      i++;
    } else {
      j++;
    }
  }
  return { inA, inB };
}

/** Two lists of lines, each line marked when the other list does not share it. */
export function diffLines(a: string[], b: string[]): Pick<JsonDiff, "before" | "after"> {
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
  const middleA = a.slice(head, a.length - tail);
  const middleB = b.slice(head, b.length - tail);
  const exact = middleA.length * middleB.length <= EXACT_DIFF_CELLS;
  const { inA, inB } = exact
    ? commonLines(middleA, middleB)
    : { inA: middleA.map(() => false), inB: middleB.map(() => false) };
  const mark = (lines: string[], shared: boolean[]): DiffLine[] =>
    lines.map((text, index) => {
      const middle = index - head;
      const inMiddle = middle >= 0 && index < lines.length - tail;
      return { text, changed: inMiddle && !shared[middle] };
    });
  return { before: mark(a, inA), after: mark(b, inB) };
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
