import type { FC } from "hono/jsx";
import type { RetryIntent, RetryIntentStatus } from "../../db/schema";
import { IntentTable } from "../components/intent-table";
import { adminPath } from "../context";

export type IntentFilter = RetryIntentStatus | "all";
export const INTENT_TABS: IntentFilter[] = ["PENDING", "CONSUMED", "REJECTED", "all"];

const LABEL: Record<IntentFilter, string> = {
  PENDING: "Pending",
  CONSUMED: "Executed",
  REJECTED: "Rejected",
  all: "All",
};

export function intentsHref(status: IntentFilter, cursor?: string): string {
  const params = new URLSearchParams();
  if (status !== "PENDING") params.set("status", status);
  if (cursor) params.set("cursor", cursor);
  const query = params.toString();
  return adminPath(`/retry-intents${query ? `?${query}` : ""}`);
}

/** Retry intents across all jobs; pending ones first, as they wait for someone. */
export const IntentsPage: FC<{
  status: IntentFilter;
  intents: RetryIntent[];
  createdJobs: Map<string, string>;
  nextCursor: string | null;
  paged: boolean;
}> = ({ status, intents, createdJobs, nextCursor, paged }) => (
  <>
    <div class="page-head">
      <div>
        <h1>Retry intents</h1>
        <p class="subtle">
          An intent is an admin's recorded decision to retry a failed job, or to supersede a
          completed job's result (marked "supersede"). Executing it creates the new job; rejecting
          it closes it.
        </p>
      </div>
    </div>
    <nav class="tabs" aria-label="Filter by status">
      {INTENT_TABS.map((tab) => (
        <a class="tab" href={intentsHref(tab)} aria-current={tab === status ? "page" : undefined}>
          {LABEL[tab]}
        </a>
      ))}
    </nav>
    <section class="panel" aria-label="Retry intents">
      {intents.length > 0 ? (
        <IntentTable intents={intents} createdJobs={createdJobs} showSource />
      ) : (
        <p class="empty">
          {status === "PENDING" ? "No intent is waiting for execution." : "No intents match."}
        </p>
      )}
      <div class="pager">
        {paged ? <a href={intentsHref(status)}>← First page</a> : null}
        {nextCursor ? <a href={intentsHref(status, nextCursor)}>Older →</a> : null}
      </div>
    </section>
  </>
);
