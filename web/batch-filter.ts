/**
 * A retry batch's filter as the admin page carries it: in the preview's query string, in the
 * approval form's hidden fields and in the filter inputs. The domain checks and normalises it;
 * this module only moves it between those places.
 */
import type { BatchFilter } from "../functions/domain/retry-batches";
import { adminPath } from "./context";

export const FILTER_FIELDS = ["generator", "errorCode", "failedAfter", "failedBefore"] as const;

/** `YYYY-MM-DDTHH:MM[:SS[.fff]]` with no zone: what a `datetime-local` input sends. */
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

/**
 * A failure-window bound as typed. A `datetime-local` input sends no time zone; the page shows
 * every time in UTC, so it is read as UTC here rather than in whatever zone the server runs.
 */
export function instant(value: string): string {
  if (!LOCAL_DATE_TIME.test(value)) return value;
  // An input that leaves out the seconds means zero seconds; the instant rule wants them said.
  return `${value.length === 16 ? `${value}:00` : value}Z`;
}

/** The filter from a query or a form; an empty field means no condition. */
export function filterFrom(read: (name: string) => string | undefined): BatchFilter {
  const value = (name: string) => read(name)?.trim() || undefined;
  const after = value("failedAfter");
  const before = value("failedBefore");
  return {
    generator: value("generator"),
    errorCode: value("errorCode"),
    failedAfter: after === undefined ? undefined : instant(after),
    failedBefore: before === undefined ? undefined : instant(before),
  };
}

/** The fields that are set, in a stable order, for links and hidden inputs. */
export function filterEntries(filter: BatchFilter): [string, string][] {
  return FILTER_FIELDS.flatMap((name) => {
    const value = filter[name];
    return value ? [[name, value] as [string, string]] : [];
  });
}

/** The preview page for a filter. */
export function previewHref(filter: BatchFilter): string {
  const query = new URLSearchParams(filterEntries(filter)).toString();
  return adminPath(`/retry-batches/new${query ? `?${query}` : ""}`);
}

/**
 * An ISO instant as a `datetime-local` input shows it, in UTC, to the second when it has
 * seconds. A value that is not a valid instant is left as typed (the error beside it says why).
 */
export function dateTimeLocalValue(value: string | undefined): string {
  if (!value) return "";
  const time = Date.parse(value);
  if (Number.isNaN(time)) return value;
  const iso = new Date(time).toISOString();
  return iso.endsWith(":00.000Z") ? iso.slice(0, 16) : iso.slice(0, 19);
}
