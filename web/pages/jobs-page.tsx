import type { FC } from "hono/jsx";
import type { Job, JobStatus } from "../../db/schema";
import type { RetryState } from "../../functions/domain/read-models";
import { JobTable } from "../components/job-table";
import { adminPath } from "../context";

export type StatusFilter = JobStatus | "all";

/** Failed first: they are what an operator comes here to decide about. */
export const STATUS_TABS: StatusFilter[] = ["FAILED", "PENDING", "RUNNING", "COMPLETED", "all"];

const TAB_LABEL: Record<StatusFilter, string> = {
  FAILED: "Failed",
  PENDING: "Pending",
  RUNNING: "Running",
  COMPLETED: "Completed",
  all: "All",
};

export function jobsHref(status: StatusFilter, generator?: string, cursor?: string): string {
  const params = new URLSearchParams();
  if (status !== "FAILED") params.set("status", status);
  if (generator) params.set("generator", generator);
  if (cursor) params.set("cursor", cursor);
  const query = params.toString();
  return query ? `${adminPath()}?${query}` : adminPath();
}

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
const RetryTheseJobs: FC<{ offer: BatchOffer; generator?: string | undefined }> = ({
  offer,
  generator,
}) => (
  <form method="get" action={adminPath("/retry-batches/new")} class="batch-offer">
    {generator ? <input type="hidden" name="generator" value={generator} /> : null}
    <button type="submit" class="button button-primary" aria-describedby="batch-offer-hint">
      {offerLabel(offer.count)}
    </button>
    <span id="batch-offer-hint" class="hint">
      {offer.count === undefined
        ? "As one batch. The preview counts the jobs a batch can take and lets you narrow them."
        : "Failed, not yet retried, no pending intent, within budget. Preview, then approve once."}
    </span>
  </form>
);

export const JobsPage: FC<{
  status: StatusFilter;
  generator?: string | undefined;
  generators: string[];
  counts: Record<JobStatus, number>;
  jobs: Job[];
  nextCursor: string | null;
  paged: boolean;
  retryStates: Map<string, RetryState>;
  /** Set for admins on the failed tab. */
  batchOffer?: BatchOffer | undefined;
}> = ({
  status,
  generator,
  generators,
  counts,
  jobs,
  nextCursor,
  paged,
  retryStates,
  batchOffer,
}) => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return (
    <>
      <div class="page-head">
        <div>
          <h1>{status === "all" ? "All jobs" : `${TAB_LABEL[status]} jobs`}</h1>
          <p class="subtle">
            {status === "FAILED"
              ? "A failed job is never re-run by itself: retry it through a retry intent, or leave it."
              : "Newest first. Counts are for all generators."}
          </p>
        </div>
        {batchOffer && batchOffer.count !== 0 ? (
          <RetryTheseJobs offer={batchOffer} generator={generator} />
        ) : null}
      </div>
      <nav class="tabs" aria-label="Filter by status">
        {STATUS_TABS.map((tab) => (
          <a
            class={`tab tab-${tab.toLowerCase()}`}
            href={jobsHref(tab, generator)}
            aria-current={tab === status ? "page" : undefined}
          >
            {TAB_LABEL[tab]} <span class="count">{tab === "all" ? total : counts[tab]}</span>
          </a>
        ))}
        <span class="filter-sep" />
        <form method="get" action={adminPath()} class="filters">
          {status !== "FAILED" ? <input type="hidden" name="status" value={status} /> : null}
          <label for="generator-filter" class="subtle">
            Generator
          </label>
          <select id="generator-filter" name="generator">
            <option value="" selected={!generator}>
              any
            </option>
            {generators.map((g) => (
              <option value={g} selected={g === generator}>
                {g}
              </option>
            ))}
          </select>
          <button type="submit" class="button button-small">
            Filter
          </button>
        </form>
      </nav>
      <section class="panel" aria-label="Jobs">
        {jobs.length === 0 ? (
          <p class="empty">
            {status === "FAILED" ? "No failed jobs. Nothing needs a decision." : "No jobs match."}
          </p>
        ) : (
          <JobTable jobs={jobs} retryStates={retryStates} />
        )}
        <div class="pager">
          {paged ? <a href={jobsHref(status, generator)}>← First page</a> : null}
          {nextCursor ? <a href={jobsHref(status, generator, nextCursor)}>Older →</a> : null}
        </div>
      </section>
    </>
  );
};
