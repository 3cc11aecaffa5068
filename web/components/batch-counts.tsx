import type { FC } from "hono/jsx";
import type { JobStatus } from "../../db/schema";
import type {
  BatchCounts as Counts,
  BatchOutcomes as Outcomes,
} from "../../functions/domain/retry-batches";
import { IntentStatusBadge, JobStatusBadge } from "./status-badge";

/**
 * A batch's intents per status. Each count stands beside its status word, so the colour is never
 * the only cue; `expired` says how many of the pending ones can no longer be executed.
 */
export const BatchCounts: FC<{ counts: Counts; expired?: number }> = ({ counts, expired = 0 }) => (
  <dl class="counts">
    <div>
      <dt>
        <IntentStatusBadge status="PENDING" />
      </dt>
      <dd>
        {counts.pending}
        {expired > 0 ? <span class="subtle"> ({expired} expired)</span> : null}
      </dd>
    </div>
    <div>
      <dt>
        <IntentStatusBadge status="CONSUMED" />
      </dt>
      <dd>{counts.consumed}</dd>
    </div>
    <div>
      <dt>
        <IntentStatusBadge status="REJECTED" />
      </dt>
      <dd>{counts.rejected}</dd>
    </div>
  </dl>
);

const OUTCOME_STATUSES: [keyof Outcomes, JobStatus][] = [
  ["pending", "PENDING"],
  ["running", "RUNNING"],
  ["completed", "COMPLETED"],
  ["failed", "FAILED"],
];

/**
 * The jobs a batch's executed intents created, per status now: whether the recovery worked.
 * Each count beside its status word, as the intents' counts are.
 */
export const BatchOutcomes: FC<{ outcomes: Outcomes }> = ({ outcomes }) => (
  <dl class="outcomes" aria-label="Jobs the batch created, by status">
    {OUTCOME_STATUSES.map(([key, status]) => (
      <div>
        <dt>
          <JobStatusBadge status={status} />
        </dt>
        <dd>{outcomes[key]}</dd>
      </div>
    ))}
  </dl>
);
