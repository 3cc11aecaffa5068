import type { FC } from "hono/jsx";
import type { Job, JobStatus } from "../../db/schema";
import type { DomainError } from "../../functions/domain/errors";
import { OPEN_COUNT_CAP, type RetryState } from "../../functions/domain/read-models";
import { FormRefusal } from "../components/form-refusal";
import { InstantField } from "../components/instant-field";
import { JobTable } from "../components/job-table";
import { DomainErrorNotice } from "../components/notice";
import { formatUtc } from "../components/time";
import { adminPath } from "../context";

/**
 * The list's tabs: the open failures (what needs a decision: a FAILED job, newest of its chain,
 * with no intent pending and no rejection by a person), each status, and every job.
 */
export type JobsTab = "open" | JobStatus | "all";

/** What needs a decision first: that is what an operator comes here for. */
export const JOB_TABS: JobsTab[] = ["open", "FAILED", "PENDING", "RUNNING", "COMPLETED", "all"];

const TAB_LABEL: Record<JobsTab, string> = {
  open: "Needs a decision",
  FAILED: "Failed",
  PENDING: "Pending",
  RUNNING: "Running",
  COMPLETED: "Completed",
  all: "All",
};

/** The list's filter besides its tab: every field narrows, and counts follow it. */
export interface ListFilter {
  generator?: string | undefined;
  errorCode?: string | undefined;
  /** ISO-8601; failed on or after. */
  failedAfter?: string | undefined;
  /** ISO-8601; failed before. */
  failedBefore?: string | undefined;
}

const FILTER_PARAMS = ["generator", "errorCode", "failedAfter", "failedBefore"] as const;

/** The list of a tab with a filter (and a page of it): the default tab takes no parameter. */
export function listHref(tab: JobsTab, filter: ListFilter = {}, cursor?: string): string {
  const params = new URLSearchParams();
  if (tab !== "open") params.set("status", tab);
  for (const name of FILTER_PARAMS) {
    const value = filter[name];
    if (value) params.set(name, value);
  }
  if (cursor) params.set("cursor", cursor);
  const query = params.toString();
  return query ? `${adminPath()}?${query}` : adminPath();
}

/** The list of a tab, for one generator when given. */
export const jobsHref = (tab: JobsTab, generator?: string, cursor?: string): string =>
  listHref(tab, { generator }, cursor);

/** How many of the listed failed jobs one batch would retry; no count when not counted here. */
export interface BatchOffer {
  count?: number | undefined;
}

const offerLabel = (count: number | undefined) =>
  count === undefined
    ? "Retry these jobs…"
    : count === 1
      ? "Retry this 1 job…"
      : `Retry these ${count} jobs…`;

/**
 * The way from a list of failures to one decision about all of them: a GET form to the batch
 * preview carrying the list's filter. Nothing is approved until the preview's own form is sent.
 */
const RetryTheseJobs: FC<{ offer: BatchOffer; filter: ListFilter }> = ({ offer, filter }) => (
  <form method="get" action={adminPath("/retry-batches/new")} class="batch-offer">
    {FILTER_PARAMS.map((name) =>
      filter[name] ? <input type="hidden" name={name} value={filter[name]} /> : null,
    )}
    <button type="submit" class="button button-primary" aria-describedby="batch-offer-hint">
      {offerLabel(offer.count)}
    </button>
    <span id="batch-offer-hint" class="hint">
      {offer.count === undefined
        ? "As one batch. The preview counts the jobs a batch can take and lets you narrow them."
        : "Failed, not yet retried, no pending intent, not rejected, within budget. Preview, then approve once."}
    </span>
  </form>
);

/** Finding a job, an intent or a batch by the first characters of its id. */
export const IdSearch: FC<{ value?: string | undefined }> = ({ value }) => (
  <search>
    <form method="get" action={adminPath()} class="id-search">
      <label for="id-search">Find by id</label>
      <input
        id="id-search"
        type="search"
        name="q"
        value={value ?? ""}
        required
        minlength={6}
        size={22}
        spellcheck={false}
        autocomplete="off"
        aria-describedby="id-search-hint"
      />
      <button type="submit" class="button button-small">
        Find
      </button>
      <span id="id-search-hint" class="hint">
        A job's, a retry intent's or a batch's id, or its first 6 characters or more.
      </span>
    </form>
  </search>
);

/** The choices of a select: those on record, and the value in use when they do not hold it. */
const choices = (value: string | undefined, known: string[]) =>
  value && !known.includes(value) ? [value, ...known] : known;

const Select: FC<{
  id: string;
  name: string;
  label: string;
  value: string | undefined;
  options: string[];
}> = ({ id, name, label, value, options }) => (
  <div class="field">
    <label for={id}>{label}</label>
    <select id={id} name={name}>
      <option value="" selected={!value}>
        any
      </option>
      {choices(value, options).map((option) => (
        <option value={option} selected={option === value}>
          {option}
        </option>
      ))}
    </select>
  </div>
);

/**
 * The list's filter: a generator and an error code, each a choice among those on record, and a
 * failure window in UTC (as every time on these pages). The tab stays as it is.
 */
const ListFilterForm: FC<{
  tab: JobsTab;
  filter: ListFilter;
  generators: string[];
  errorCodes: string[];
}> = ({ tab, filter, generators, errorCodes }) => (
  <form method="get" action={adminPath()} class="filters list-filters">
    {tab !== "open" ? <input type="hidden" name="status" value={tab} /> : null}
    <Select
      id="generator-filter"
      name="generator"
      label="Generator"
      value={filter.generator}
      options={generators}
    />
    <Select
      id="errorCode-filter"
      name="errorCode"
      label="Error code"
      value={filter.errorCode}
      options={errorCodes}
    />
    <InstantField
      id="failedAfter-filter"
      name="failedAfter"
      label="Failed from (UTC)"
      value={filter.failedAfter}
    />
    <InstantField
      id="failedBefore-filter"
      name="failedBefore"
      label="Failed before (UTC)"
      value={filter.failedBefore}
    />
    <button type="submit" class="button button-small">
      Filter
    </button>
    {FILTER_PARAMS.some((name) => filter[name]) ? <a href={listHref(tab)}>Clear</a> : null}
  </form>
);

const instantWords = (iso: string) => formatUtc(new Date(iso));

/** "generator http · error HTTP_TIMEOUT · failed from …": the filter the counts are for. */
function filterWords(filter: ListFilter): string {
  const parts = [
    filter.generator ? `generator ${filter.generator}` : null,
    filter.errorCode ? `error ${filter.errorCode}` : null,
    filter.failedAfter ? `failed from ${instantWords(filter.failedAfter)}` : null,
    filter.failedBefore ? `failed before ${instantWords(filter.failedBefore)}` : null,
  ].filter((part) => part !== null);
  return parts.length === 0 ? "every job" : parts.join(" · ");
}

const LEAD: Record<JobsTab, string> = {
  open: "Failed jobs nobody has decided about yet: the newest of their chain, with no retry intent pending and none rejected by a person. A failed job is never re-run by itself: retry it through a retry intent, one at a time or as a batch.",
  FAILED:
    "Every failed job, decided or not: retried, with an intent pending, rejected, or still needing a decision.",
  PENDING: "Newest first.",
  RUNNING: "Newest first.",
  COMPLETED: "Newest first.",
  all: "Newest first.",
};

const EMPTY: Record<JobsTab, string> = {
  open: "Nothing needs a decision: no failure matches that has not been retried, is not waiting on an intent, or was not rejected.",
  FAILED: "No failed jobs match.",
  PENDING: "No jobs match.",
  RUNNING: "No jobs match.",
  COMPLETED: "No jobs match.",
  all: "No jobs match.",
};

export interface JobsPageProps {
  tab: JobsTab;
  filter: ListFilter;
  generators: string[];
  errorCodes: string[];
  /** Jobs per status, and the open failures, for the filter (each tab's count). */
  counts: Record<JobStatus, number>;
  open: number;
  jobs: Job[];
  nextCursor: string | null;
  paged: boolean;
  retryStates: Map<string, RetryState>;
  /** Set for admins on the tabs of failures. */
  batchOffer?: BatchOffer | undefined;
  /** A filter the page refused: shown beside the form, which keeps what was typed. */
  error?: DomainError | undefined;
}

export const JobsPage: FC<JobsPageProps> = (props) => {
  const { tab, filter, counts, open, jobs, nextCursor, paged, retryStates, batchOffer, error } =
    props;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const countOf = (t: JobsTab) =>
    t === "open"
      ? open > OPEN_COUNT_CAP
        ? `${OPEN_COUNT_CAP.toLocaleString("en-US")}+`
        : open
      : t === "all"
        ? total
        : counts[t];
  return (
    <>
      <div class="page-head">
        <div>
          <h1>
            {tab === "all"
              ? "All jobs"
              : tab === "open"
                ? TAB_LABEL.open
                : `${TAB_LABEL[tab]} jobs`}
          </h1>
          <p class="subtle">{LEAD[tab]}</p>
        </div>
        <IdSearch />
        {batchOffer && batchOffer.count !== 0 ? (
          <RetryTheseJobs offer={batchOffer} filter={filter} />
        ) : null}
      </div>
      <nav
        class="tabs"
        aria-label="Filter by status"
        aria-describedby={error ? undefined : "counts-for"}
      >
        {JOB_TABS.map((t) => (
          <a
            class={`tab tab-${t.toLowerCase()}`}
            href={listHref(t, filter)}
            aria-current={t === tab ? "page" : undefined}
          >
            {TAB_LABEL[t]} <span class="count">{error ? "–" : countOf(t)}</span>
          </a>
        ))}
      </nav>
      <ListFilterForm
        tab={tab}
        filter={filter}
        generators={props.generators}
        errorCodes={props.errorCodes}
      />
      {error ? (
        <FormRefusal>
          <DomainErrorNotice error={error} />
        </FormRefusal>
      ) : (
        <p id="counts-for" class="subtle counts-for">
          Counts are for {filterWords(filter)}.
        </p>
      )}
      {error ? null : (
        <section class="panel" aria-label="Jobs">
          {jobs.length === 0 ? (
            <p class="empty">{EMPTY[tab]}</p>
          ) : (
            <JobTable jobs={jobs} retryStates={retryStates} />
          )}
          <div class="pager">
            {paged ? <a href={listHref(tab, filter)}>← First page</a> : null}
            {nextCursor ? <a href={listHref(tab, filter, nextCursor)}>Older →</a> : null}
          </div>
        </section>
      )}
    </>
  );
};
