import type { FC } from "hono/jsx";
import { useRequestContext } from "hono/jsx-renderer";
import type { AdminEnv } from "../context";

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

/**
 * The database's clock, as the page's first statement read it: an intent's expiry is judged by
 * the clock that executing it asks, not by this server's. Outside a page's rendering (a test of
 * a component alone), this server's.
 */
export function databaseNow(): number {
  try {
    return useRequestContext<AdminEnv>().var.databaseNow ?? Date.now();
  } catch {
    return Date.now();
  }
}

/** Whether an intent's time has run out, by the database's clock. */
export const hasExpired = (intent: { expiresAt: Date }, now = databaseNow()): boolean =>
  intent.expiresAt.getTime() <= now;

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

/**
 * How long until `until`, in the two largest units ("2 days 3 hours"), or undefined once it
 * has passed. Rounded down, so that what is shown never promises more time than is left.
 */
export function formatTimeLeft(until: Date, now = databaseNow()): string | undefined {
  const left = until.getTime() - now;
  if (left <= 0) return undefined;
  const minutes = Math.floor(left / 60_000);
  if (minutes < 1) return "less than a minute";
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days > 0)
    return hours > 0 ? `${plural(days, "day")} ${plural(hours, "hour")}` : plural(days, "day");
  if (hours > 0)
    return rest > 0 ? `${plural(hours, "hour")} ${plural(rest, "minute")}` : plural(hours, "hour");
  return plural(rest, "minute");
}

/**
 * When a PENDING intent stops being executable: "expires in 2 days 3 hours", or "expired",
 * with the exact time in the tooltip. The database's clock decides; this is what it will say.
 */
export const ExpiresIn: FC<{ value: Date }> = ({ value }) => {
  const left = formatTimeLeft(value);
  const iso = value.toISOString();
  return left ? (
    <time datetime={iso} title={formatUtc(value)} class="nowrap">
      expires in {left}
    </time>
  ) : (
    <time datetime={iso} title={formatUtc(value)} class="badge badge-expired">
      expired
    </time>
  );
};
