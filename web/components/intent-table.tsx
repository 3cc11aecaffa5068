import type { FC } from "hono/jsx";
import type { RetryIntent } from "../../db/schema";
import { Actor } from "./actor";
import { BatchLink, IntentLink, JobLink } from "./links";
import { IntentStatusBadge } from "./status-badge";
import { ExpiresIn, hasExpired, Time } from "./time";

/** What each kind of intent is called, and what its source job is to it. */
export const KIND_NAMES = {
  RETRY: { kind: "Retry", intent: "Retry intent", source: "Failed job" },
  SUPERSEDE: { kind: "Supersede", intent: "Supersede intent", source: "Completed job" },
} as const;

/** An intent carries a corrected input when it has one; null means the source's, unchanged. */
export const hasCorrectedInput = (intent: RetryIntent): boolean =>
  intent.input !== null && intent.input !== undefined;

/**
 * What sets an intent apart from a plain retry: a supersession, a corrected input, approved past
 * the budget, or as part of a batch.
 */
export const IntentMarks: FC<{ intent: RetryIntent }> = ({ intent }) => (
  <>
    {intent.kind === "SUPERSEDE" ? <span class="badge badge-kind">supersede</span> : null}
    {hasCorrectedInput(intent) ? <span class="badge badge-input">corrected input</span> : null}
    {intent.budgetOverride ? <span class="badge badge-override">budget override</span> : null}
    {intent.batchId ? (
      <span class="nowrap subtle">
        batch <BatchLink id={intent.batchId} short />
      </span>
    ) : null}
  </>
);

/**
 * Retry intents with who approved them and why. `createdJobs` maps a consumed intent to the job
 * it created; `showSource` adds the source job's column where the list spans many jobs. Each cell
 * names its column (`data-label`) for the cards a narrow screen shows instead of the table.
 */
export const IntentTable: FC<{
  intents: RetryIntent[];
  createdJobs: Map<string, string>;
  showSource?: boolean;
}> = ({ intents, createdJobs, showSource }) => (
  <div class="table-wrap" id="intents-table">
    <table class="grid cards">
      <thead>
        <tr>
          <th scope="col">Intent</th>
          <th scope="col">Status</th>
          {showSource ? <th scope="col">Source job</th> : null}
          <th scope="col">Reason</th>
          <th scope="col">Approved by</th>
          <th scope="col">Approved</th>
          <th scope="col">Expiry</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        {intents.map((intent) => {
          const createdJob = createdJobs.get(intent.id);
          return (
            <tr>
              <td data-label="Intent">
                <IntentLink id={intent.id} short />
              </td>
              <td data-label="Status">
                <IntentStatusBadge status={intent.status} />
              </td>
              {showSource ? (
                <td data-label="Source job">
                  <JobLink id={intent.sourceJobId} short />
                </td>
              ) : null}
              <td class="wrap" data-label="Reason">
                <span class="chip">{intent.reasonCode}</span> {intent.reasonText}
                {intent.budgetOverride ||
                intent.batchId ||
                intent.kind === "SUPERSEDE" ||
                hasCorrectedInput(intent) ? (
                  <span class="marks">
                    <IntentMarks intent={intent} />
                  </span>
                ) : null}
              </td>
              <td data-label="Approved by">
                <Actor actor={intent.approvedBy} />
              </td>
              <td data-label="Approved">
                <Time value={intent.approvedAt} relative />
              </td>
              <td data-label="Expiry">
                {intent.status === "PENDING" ? (
                  <ExpiresIn value={intent.expiresAt} />
                ) : (
                  <span class="faint">—</span>
                )}
              </td>
              <td data-label="Outcome">
                {intent.status === "CONSUMED" ? (
                  <span>
                    created <JobLink id={createdJob ?? ""} short />{" "}
                    <span class="subtle">
                      by <Actor actor={intent.consumedBy} />
                    </span>
                  </span>
                ) : intent.status === "REJECTED" ? (
                  <span title={intent.rejectionText ?? undefined}>
                    rejected by <Actor actor={intent.rejectedBy} />
                  </span>
                ) : hasExpired(intent) ? (
                  <span class="subtle">cannot be executed; awaiting the expiry sweep</span>
                ) : (
                  <span class="subtle">awaiting execution</span>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  </div>
);
