import type { FC } from "hono/jsx";

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** `2025-11-24 09:03:12 UTC`: one time zone for everyone reading the same audit trail. */
export function formatUtc(date: Date): string {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} UTC`;
}

export function formatAgo(date: Date, now = Date.now()): string {
  const seconds = Math.round((now - date.getTime()) / 1000);
  if (seconds < 0) return "in the future";
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

/**
 * A timestamp: absolute UTC by default; `relative` shows "5 min ago" for dense lists, with the
 * exact time in the tooltip and the machine-readable value in `datetime`.
 */
export const Time: FC<{ value: Date | null | undefined; relative?: boolean }> = ({
  value,
  relative,
}) => {
  if (!value) return <span class="faint">—</span>;
  const iso = value.toISOString();
  return relative ? (
    <time datetime={iso} title={formatUtc(value)} class="nowrap">
      {formatAgo(value)}
    </time>
  ) : (
    <time datetime={iso} class="nowrap">
      {formatUtc(value)} <span class="faint">· {formatAgo(value)}</span>
    </time>
  );
};
