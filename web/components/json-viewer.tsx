import type { Child, FC } from "hono/jsx";
import { type DiffLine, diffJson } from "../json-diff";

/** Longer documents are cut for display; the API serves them whole. */
const DISPLAY_LIMIT = 100_000;

/**
 * Past this many lines, or characters (a long value wraps onto many), a document scrolls in a
 * box of its own rather than lengthening the page. The box then takes the keyboard focus (and
 * is named), so that it can be scrolled without a mouse; a shorter document is never a scroll
 * box, so it adds no stop to the tab order.
 */
const SCROLL_LINES = 20;
const SCROLL_CHARACTERS = 2000;

/** The attributes of a `<pre>` showing `text`, named `name` when it scrolls. */
function scrollBox(text: string, name: string) {
  const long = text.length > SCROLL_CHARACTERS || text.split("\n").length > SCROLL_LINES;
  return long ? { class: "scroll", tabindex: 0, role: "region", "aria-label": name } : {};
}

const TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/** Splits pretty-printed JSON into text and coloured spans. JSX escapes every piece. */
function highlight(text: string): Child[] {
  const parts: Child[] = [];
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const index = match.index ?? 0;
    if (index > last) parts.push(text.slice(last, index));
    const [whole, string, colon, literal] = match;
    if (string !== undefined) {
      parts.push(<span class={colon ? "k" : "s"}>{string}</span>);
      if (colon) parts.push(colon);
    } else if (literal !== undefined) {
      parts.push(<span class="l">{literal}</span>);
    } else {
      parts.push(<span class="n">{whole}</span>);
    }
    last = index + whole.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

function byteLength(text: string): string {
  const bytes = new TextEncoder().encode(text).length;
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

/**
 * Shows a JSON value for reading only: pretty-printed, coloured, escaped, inside a
 * `<details>` so long documents can be folded away. It has no inputs and no actions.
 */
export const ReadOnlyJsonViewer: FC<{ value: unknown; label?: string; open?: boolean }> = ({
  value,
  label = "JSON",
  open = true,
}) => {
  const text = value === undefined ? "null" : (JSON.stringify(value, null, 2) ?? "null");
  const cut = text.length > DISPLAY_LIMIT;
  const shown = cut ? text.slice(0, DISPLAY_LIMIT) : text;
  return (
    <details class="json" open={open}>
      <summary>
        {label} · {byteLength(text)}
        {cut ? " · shortened for display" : ""}
      </summary>
      <pre {...scrollBox(shown, label)}>
        <code>
          {highlight(shown)}
          {cut ? "\n…" : ""}
        </code>
      </pre>
    </details>
  );
};

/** One side of a comparison: each line on its own, a changed one marked as removed or added. */
const DiffPane: FC<{ lines: DiffLine[]; side: "before" | "after"; label: Child }> = ({
  lines,
  side,
  label,
}) => (
  <div class="diff-pane">
    <h3>{label}</h3>
    <pre {...scrollBox(lines.map((line) => line.text).join("\n"), side)}>
      <code>
        {lines.map((line) =>
          !line.changed ? (
            <span class="diff-line">{highlight(line.text)}</span>
          ) : side === "before" ? (
            <del class="diff-line">{highlight(line.text)}</del>
          ) : (
            <ins class="diff-line">{highlight(line.text)}</ins>
          ),
        )}
      </code>
    </pre>
  </div>
);

/**
 * Two JSON values side by side for reading only, keys sorted so that they line up, with the
 * lines that differ marked (`<del>` on the old side, `<ins>` on the new, and a − or + in the
 * margin, so the marks do not rest on colour alone). Values too long to show whole are shown
 * one after the other, unmarked, as the viewer shows them.
 */
export const ReadOnlyJsonComparison: FC<{
  before: unknown;
  after: unknown;
  beforeLabel: Child;
  afterLabel: Child;
  id?: string;
}> = ({ before, after, beforeLabel, afterLabel, id }) => {
  const tooLong = [before, after].some(
    (value) => (JSON.stringify(value ?? null)?.length ?? 0) > DISPLAY_LIMIT,
  );
  if (tooLong) {
    return (
      <div class="json-diff" id={id}>
        <p class="subtle diff-summary">Too long to compare line by line here.</p>
        <div class="diff-pane">
          <h3>{beforeLabel}</h3>
          <ReadOnlyJsonViewer value={before} label="before" />
        </div>
        <div class="diff-pane">
          <h3>{afterLabel}</h3>
          <ReadOnlyJsonViewer value={after} label="after" />
        </div>
      </div>
    );
  }
  const diff = diffJson(before, after);
  const summary =
    diff.removed + diff.added === 0
      ? "No difference."
      : `${diff.removed} ${diff.removed === 1 ? "line" : "lines"} only before, ${diff.added} ${diff.added === 1 ? "line" : "lines"} only after (marked − and +).`;
  return (
    <div class="json-diff" id={id}>
      <p class="subtle diff-summary">{summary}</p>
      <DiffPane lines={diff.before} side="before" label={beforeLabel} />
      <DiffPane lines={diff.after} side="after" label={afterLabel} />
    </div>
  );
};
