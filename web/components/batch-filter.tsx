import type { FC } from "hono/jsx";
import type { BatchFilter } from "../../functions/domain/retry-batches";
import { filterEntries } from "../batch-filter";
import { InstantField } from "./instant-field";
import { formatUtc } from "./time";

const instant = (iso: string) => {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : formatUtc(new Date(time));
};

/** A batch's filter in words, as it was approved: which failed jobs it was about. */
export const BatchFilterSummary: FC<{ filter: BatchFilter }> = ({ filter }) => {
  const parts = [
    filter.generator ? (
      <span>
        generator <span class="chip">{filter.generator}</span>
      </span>
    ) : null,
    filter.errorCode ? (
      <span>
        error <span class="mono">{filter.errorCode}</span>
      </span>
    ) : null,
    filter.failedAfter ? (
      <span class="nowrap">failed from {instant(filter.failedAfter)}</span>
    ) : null,
    filter.failedBefore ? (
      <span class="nowrap">failed before {instant(filter.failedBefore)}</span>
    ) : null,
  ].filter((part) => part !== null);
  if (parts.length === 0) return <span>every failed job</span>;
  return (
    <span class="filter-summary">
      {parts.map((part, i) => (
        <>
          {i > 0 ? <span class="faint"> · </span> : null}
          {part}
        </>
      ))}
    </span>
  );
};

/** The filter again as hidden fields, so that approving sends exactly what was previewed. */
export const BatchFilterHidden: FC<{ filter: BatchFilter }> = ({ filter }) => (
  <>
    {filterEntries(filter).map(([name, value]) => (
      <input type="hidden" name={name} value={value} />
    ))}
  </>
);

/** The choices of a select: those on record, and the value in use when they do not hold it. */
const choices = (value: string | undefined, known: string[]) =>
  value && !known.includes(value) ? [value, ...known] : known;

/**
 * The inputs of a batch filter. Generators and error codes are chosen among those on record
 * (the database's counters), so a typo cannot make an empty preview. Times are entered and
 * shown in UTC, like every time on these pages; a browser's `datetime-local` input has no zone
 * of its own.
 */
export const BatchFilterFields: FC<{
  filter: BatchFilter;
  generators: string[];
  errorCodes: string[];
}> = ({ filter, generators, errorCodes }) => {
  const known = choices(filter.generator, generators);
  const codes = choices(filter.errorCode, errorCodes);
  return (
    <>
      <div class="field">
        <label for="filter-generator">Generator</label>
        <select id="filter-generator" name="generator">
          <option value="" selected={!filter.generator}>
            any
          </option>
          {known.map((g) => (
            <option value={g} selected={g === filter.generator}>
              {g}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="filter-errorCode">Error code</label>
        <select id="filter-errorCode" name="errorCode">
          <option value="" selected={!filter.errorCode}>
            any
          </option>
          {codes.map((code) => (
            <option value={code} selected={code === filter.errorCode}>
              {code}
            </option>
          ))}
        </select>
      </div>
      <InstantField
        id="filter-failedAfter"
        name="failedAfter"
        label="Failed from (UTC)"
        value={filter.failedAfter}
      />
      <InstantField
        id="filter-failedBefore"
        name="failedBefore"
        label="Failed before (UTC)"
        value={filter.failedBefore}
      />
    </>
  );
};
