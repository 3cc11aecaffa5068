import type { FC } from "hono/jsx";
import type { BatchCounts as Counts } from "../../functions/domain/retry-batches";
import { IntentStatusBadge } from "./status-badge";

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
