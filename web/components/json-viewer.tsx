import type { Child, FC } from "hono/jsx";

/** Longer documents are cut for display; the API serves them whole. */
const DISPLAY_LIMIT = 100_000;

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
      <pre>
        <code>
          {highlight(shown)}
          {cut ? "\n…" : ""}
        </code>
      </pre>
    </details>
  );
};
