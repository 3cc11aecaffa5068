import type { FC } from "hono/jsx";
import type { RetryBatch } from "../../db/schema";
import { Actor } from "../components/actor";
import { BatchFilterSummary } from "../components/batch-filter";
import { CsrfField } from "../components/csrf-field";
import { adminPath } from "../context";
import { batchHref } from "../forms";

/** The sentence the confirmation shows; tests and operators rely on its wording. */
export function batchExecuteWarning(count: number): string {
  return count === 1
    ? "This will create 1 new regeneration job."
    : `This will create ${count} new regeneration jobs.`;
}

/**
 * The confirmation step of executing a batch, naming how many jobs it will create. A page, not
 * a script dialog, so that it works without JavaScript and Confirm is an ordinary POST form.
 */
export const BatchExecutePage: FC<{ batch: RetryBatch; ready: number; expired: number }> = ({
  batch,
  ready,
  expired,
}) => (
  <>
    <div class="page-head">
      <div>
        <div class="crumbs">
          <a href={adminPath("/retry-batches")}>Retry batches</a> /{" "}
          <a href={batchHref(batch.id)} class="id">
            {batch.id}
          </a>{" "}
          / execute
        </div>
        <h1>Execute retry batch</h1>
      </div>
    </div>
    <section class="panel confirm" aria-labelledby="confirm-title">
      <header>
        <h2 id="confirm-title">Confirm</h2>
      </header>
      <div class="panel-body">
        <p class="warning">{batchExecuteWarning(ready)}</p>
        <p>
          Each pending intent of the batch is consumed and yields one new job with the generator and
          input of its failed job, linked to it; the failed jobs stay as they are and the worker
          runs the new ones like any other. Intents executed, rejected or expired by the time you
          confirm are skipped, and the page says how many.
          {expired > 0
            ? ` ${expired} ${expired === 1 ? "intent has" : "intents have"} already expired.`
            : ""}
        </p>
        <dl class="meta">
          <dt>Filter</dt>
          <dd>
            <BatchFilterSummary filter={batch.filter} />
          </dd>
          <dt>Reason</dt>
          <dd>
            <span class="chip">{batch.reasonCode}</span> {batch.reasonText}
          </dd>
          <dt>Approved by</dt>
          <dd>
            <Actor actor={batch.approvedBy} full />
          </dd>
        </dl>
        <form
          method="post"
          action={batchHref(batch.id, "/execute")}
          class="actions confirm-actions"
        >
          <CsrfField />
          <button type="submit" class="button button-primary">
            Confirm: create {ready === 1 ? "1 retry job" : `${ready} retry jobs`}
          </button>
          <a href={batchHref(batch.id)}>Cancel</a>
        </form>
      </div>
    </section>
  </>
);
