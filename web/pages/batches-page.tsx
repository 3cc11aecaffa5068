import type { FC } from "hono/jsx";
import type { RetryBatch } from "../../db/schema";
import type { BatchCounts as Counts } from "../../functions/domain/retry-batches";
import { Actor } from "../components/actor";
import { BatchFilterSummary } from "../components/batch-filter";
import { BatchLink } from "../components/links";
import { Time } from "../components/time";
import { adminPath } from "../context";

export function batchesHref(cursor?: string): string {
  return adminPath(`/retry-batches${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`);
}

/**
 * Retry batches, newest first, each with what became of its intents. Each cell names its column
 * (`data-label`) for the cards a narrow screen shows instead of the table.
 */
export const BatchesPage: FC<{
  batches: { batch: RetryBatch; counts: Counts }[];
  nextCursor: string | null;
  paged: boolean;
  canMutate: boolean;
}> = ({ batches, nextCursor, paged, canMutate }) => (
  <>
    <div class="page-head">
      <div>
        <h1>Retry batches</h1>
        <p class="subtle">
          A batch is one approval for many failed jobs, frozen at the moment it was approved: one
          retry intent per job, executed or rejected together.
        </p>
      </div>
      {canMutate ? (
        <a class="button" href={adminPath("/retry-batches/new")}>
          Preview a new batch…
        </a>
      ) : null}
    </div>
    <section class="panel" aria-label="Retry batches">
      {batches.length > 0 ? (
        <div class="table-wrap" id="batches-table">
          <table class="grid cards">
            <thead>
              <tr>
                <th scope="col">Batch</th>
                <th scope="col">Filter</th>
                <th scope="col">Reason</th>
                <th scope="col">Approved by</th>
                <th scope="col">Approved</th>
                <th scope="col" class="num">
                  Jobs
                </th>
                <th scope="col" class="num">
                  Pending
                </th>
                <th scope="col" class="num">
                  Consumed
                </th>
                <th scope="col" class="num">
                  Rejected
                </th>
              </tr>
            </thead>
            <tbody>
              {batches.map(({ batch, counts }) => (
                <tr>
                  <td data-label="Batch">
                    <BatchLink id={batch.id} short />
                  </td>
                  <td class="wrap" data-label="Filter">
                    <BatchFilterSummary filter={batch.filter} />
                  </td>
                  <td class="wrap" data-label="Reason">
                    <span class="chip">{batch.reasonCode}</span> {batch.reasonText}
                  </td>
                  <td data-label="Approved by">
                    <Actor actor={batch.approvedBy} />
                  </td>
                  <td data-label="Approved">
                    <Time value={batch.approvedAt} relative />
                  </td>
                  <td class="num" data-label="Jobs">
                    {batch.jobCount}
                  </td>
                  <td class="num" data-label="Pending">
                    {counts.pending}
                  </td>
                  <td class="num" data-label="Consumed">
                    {counts.consumed}
                  </td>
                  <td class="num" data-label="Rejected">
                    {counts.rejected}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="empty">
          No retry batch has been approved yet. Start from the failed jobs: "Retry these jobs"
          previews a batch for the jobs listed.
        </p>
      )}
      <div class="pager">
        {paged ? <a href={batchesHref()}>← Newest</a> : null}
        {nextCursor ? <a href={batchesHref(nextCursor)}>Older →</a> : null}
      </div>
    </section>
  </>
);
