/**
 * One rule for an instant a caller names (a batch filter's window), the API's and the admin
 * page's alike: RFC 3339 with seconds and an offset (`Z` or `+01:00`: a time without one would
 * mean a different moment on each server), as JSON Schema's `date-time` reads it, narrowed to
 * what PostgreSQL and JavaScript both take: `T` and `Z` upper-case, no leap second, years 0002 to
 * 9998 (so that any offset stays within the years 1 to 9999: PostgreSQL's dates start at year 1,
 * and JavaScript prints years past 9999 in a form PostgreSQL does not read), and a day of the
 * calendar (no 30 February).
 */
export const INSTANT_PATTERN =
  /^(?!000[01]|9999)\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/** Whether the date part names a day of the calendar (2025-02-29 does not). */
export function calendarDay(value: string): boolean {
  const [year, month, day] = value.slice(0, 10).split("-").map(Number) as [number, number, number];
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year);
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** The instant as ISO-8601 in UTC, or undefined when it breaks the rule. */
export function parseInstant(value: string): string | undefined {
  if (!INSTANT_PATTERN.test(value) || !calendarDay(value)) return undefined;
  return new Date(value).toISOString();
}
