import type { FC } from "hono/jsx";
import { Actor } from "./actor";
import { Time } from "./time";

/** Who approved a retry decision (an intent or a batch), when and why, as `<dt>`/`<dd>` pairs. */
export const ApprovalFacts: FC<{
  decision: { reasonCode: string; reasonText: string; approvedBy: string; approvedAt: Date };
}> = ({ decision }) => (
  <>
    <dt>Reason code</dt>
    <dd>
      <span class="chip">{decision.reasonCode}</span>
    </dd>
    <dt>Reason</dt>
    <dd>{decision.reasonText}</dd>
    <dt>Approved by</dt>
    <dd>
      <Actor actor={decision.approvedBy} full />
    </dd>
    <dt>Approved</dt>
    <dd>
      <Time value={decision.approvedAt} />
    </dd>
  </>
);
