import type { FC } from "hono/jsx";
import type { AuditEvent } from "../../db/schema";
import type { DomainError } from "../../functions/domain/errors";
import type { BatchDetail } from "../../functions/domain/retry-batches";
import { Actor } from "../components/actor";
import { ApprovalFacts } from "../components/approval-facts";
import { AuditPanel } from "../components/audit-table";
import { BatchCounts, BatchOutcomes } from "../components/batch-counts";
import { BatchFilterSummary } from "../components/batch-filter";
import { IntentLink, JobLink } from "../components/links";
import { DomainErrorNotice, Notice } from "../components/notice";
import { RejectForm } from "../components/reject-form";
import { IntentStatusBadge, JobStatusBadge } from "../components/status-badge";
import { databaseNow, ExpiresIn, hasExpired } from "../components/time";
import { adminPath } from "../context";
import { batchHref } from "../forms";

export interface BatchPageData extends BatchDetail {
  audit: AuditEvent[];
}

export interface BatchPageView {
  canMutate: boolean;
  /** Set when the four-eyes rule stops this admin from executing: they approved the batch. */
  fourEyesBlocked: boolean;
  notice?: string | undefined;
  error?: DomainError | undefined;
  /** A refusal of the page's own making, such as nothing left to execute. */
  message?: string | undefined;
  rejectText?: string | undefined;
  /** Why the rejection typed was refused: shown beside the reject form, focused. */
  rejectError?: DomainError | undefined;
  /** Set when the page reloads itself (every this many seconds) while its jobs run. */
  refreshSeconds?: number | undefined;
}

/** PENDING intents that can still be executed, and those whose time ran out. */
export function executable(data: BatchDetail, now = databaseNow()) {
  const pending = data.intents.filter((i) => i.status === "PENDING");
  const expired = pending.filter((i) => hasExpired(i, now)).length;
  return { ready: pending.length - expired, expired };
}

const retryJobs = (n: number) =>
  n === 1 ? "1 new regeneration job" : `${n} new regeneration jobs`;

const Decision: FC<{ data: BatchPageData; view: BatchPageView }> = ({ data, view }) => {
  const { batch, counts } = data;
  const { ready, expired } = executable(data);
  if (counts.pending === 0) {
    return (
      <p class="subtle">
        Nothing is pending: every intent of this batch has been executed or rejected. A batch is
        decided once; to retry its jobs again, approve a new batch or single intents.
      </p>
    );
  }
  if (!view.canMutate) {
    return <p class="subtle">Pending: waiting for an admin to execute or reject it.</p>;
  }
  return (
    <>
      <div class="field">
        {ready === 0 ? (
          <p class="subtle" id="execute-blocked">
            Every pending intent of this batch has expired, so nothing can be executed. The worker's
            sweep will reject them; reject them now to approve new ones at once.
          </p>
        ) : view.fourEyesBlocked ? (
          <p class="subtle" id="execute-blocked">
            You approved this batch, and the four-eyes rule is on: another admin has to execute it.
          </p>
        ) : (
          <>
            <p>
              Executing creates {retryJobs(ready)}, one per pending intent, each with the generator
              and input of its failed job and linked to it. You confirm on the next step.
              {expired > 0
                ? ` ${expired} pending ${expired === 1 ? "intent has" : "intents have"} expired and will be skipped.`
                : ""}
            </p>
            <div class="actions">
              <a class="button button-primary" href={batchHref(batch.id, "/execute")}>
                Execute…
              </a>
            </div>
          </>
        )}
      </div>
      <hr class="rule" />
      <RejectForm
        action={batchHref(batch.id)}
        idPrefix="batch-reject"
        text={view.rejectText}
        error={view.rejectError}
        hint="Rejects every pending intent of the batch; executed ones stay as they are."
      >
        Reject {counts.pending === 1 ? "the pending intent" : `${counts.pending} pending intents`}
      </RejectForm>
    </>
  );
};

/**
 * What became of the jobs the batch created: per status, and while some are unfinished, that
 * the page follows them (or a link to, when it does not reload itself).
 */
const Outcomes: FC<{ data: BatchPageData; refreshSeconds: number | undefined }> = ({
  data,
  refreshSeconds,
}) => {
  const { outcomes, batch } = data;
  const created = outcomes.pending + outcomes.running + outcomes.completed + outcomes.failed;
  const running = outcomes.pending + outcomes.running;
  return (
    <section class="panel" aria-labelledby="outcomes-title">
      <header>
        <h2 id="outcomes-title">Jobs it created ({created})</h2>
      </header>
      <div class="panel-body">
        {created === 0 ? (
          <p class="subtle">None yet: each intent creates its job when it is executed.</p>
        ) : (
          <>
            <BatchOutcomes outcomes={outcomes} />
            <p class="subtle" id="outcomes-state">
              {running === 0
                ? `Every job it created has finished: ${outcomes.completed} completed, ${outcomes.failed} failed.`
                : `${running} of them ${running === 1 ? "has" : "have"} yet to finish.`}
              {running > 0 && refreshSeconds
                ? ` This page reloads every ${refreshSeconds} seconds until they have. `
                : " "}
              {running > 0 ? <a href={batchHref(batch.id)}>Refresh now</a> : null}
            </p>
          </>
        )}
      </div>
    </section>
  );
};

/** How many jobs the preview held, when the approver chose some of them (its creation event says). */
function previewedCount(audit: AuditEvent[]): number | undefined {
  const created = audit.find((e) => e.type === "RETRY_BATCH_CREATED")?.data as
    | { previewCount?: number }
    | undefined;
  return created?.previewCount;
}

const IntentsOfBatch: FC<{ data: BatchPageData }> = ({ data }) => (
  <section class="panel" aria-labelledby="intents-title">
    <header>
      <h2 id="intents-title">Intents ({data.intents.length})</h2>
      <span class="subtle">one per failed job, by job id</span>
    </header>
    <div class="table-wrap scroll">
      <table class="grid cards">
        <thead>
          <tr>
            <th scope="col">Intent</th>
            <th scope="col">Status</th>
            <th scope="col">Failed job</th>
            <th scope="col">Outcome</th>
          </tr>
        </thead>
        <tbody>
          {data.intents.map((intent) => (
            <tr>
              <td data-label="Intent">
                <IntentLink id={intent.id} short />
              </td>
              <td data-label="Status">
                <IntentStatusBadge status={intent.status} />
              </td>
              <td data-label="Failed job">
                <JobLink id={intent.sourceJobId} />
              </td>
              <td data-label="Outcome">
                {intent.status === "CONSUMED" && intent.resultingJobId ? (
                  <span class="nowrap">
                    created <JobLink id={intent.resultingJobId} />{" "}
                    {intent.resultingJobStatus ? (
                      <JobStatusBadge status={intent.resultingJobStatus} />
                    ) : null}
                  </span>
                ) : intent.status === "REJECTED" ? (
                  <span title={intent.rejectionText ?? undefined}>
                    rejected by <Actor actor={intent.rejectedBy} />
                  </span>
                ) : (
                  <ExpiresIn value={intent.expiresAt} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  </section>
);

/** One retry batch: what was approved, for which jobs and why, what became of each, its audit trail. */
export const BatchPage: FC<{ data: BatchPageData; view: BatchPageView }> = ({ data, view }) => {
  const { batch, counts, audit } = data;
  const { expired } = executable(data);
  const previewed = previewedCount(audit);
  return (
    <>
      <div class="page-head">
        <div>
          <div class="crumbs">
            <a href={adminPath("/retry-batches")}>Retry batches</a> / batch
          </div>
          <div class="title">
            <h1 class="id">{batch.id}</h1>
            <span class="chip">{batch.jobCount} jobs</span>
          </div>
        </div>
        <a href={adminPath(`/audit?subjectId=${encodeURIComponent(batch.id)}`)}>Audit events →</a>
      </div>
      {view.notice ? <Notice kind="success">{view.notice}</Notice> : null}
      {view.error ? <DomainErrorNotice error={view.error} /> : null}
      {view.message ? <Notice kind="error">{view.message}</Notice> : null}
      <div class="columns">
        <section class="panel" aria-labelledby="batch-title">
          <header>
            <h2 id="batch-title">Retry batch</h2>
          </header>
          <div class="panel-body">
            <dl class="meta">
              <dt>Filter</dt>
              <dd>
                <BatchFilterSummary filter={batch.filter} />
              </dd>
              <dt>Jobs</dt>
              <dd>
                {previewed === undefined
                  ? `${batch.jobCount}, as previewed and approved`
                  : `${batch.jobCount} of the ${previewed} previewed, as the approver checked them`}
              </dd>
              <ApprovalFacts decision={batch} />
            </dl>
          </div>
        </section>
        <section class="panel" aria-labelledby="decision-title">
          <header>
            <h2 id="decision-title">Decision</h2>
          </header>
          <div class="panel-body">
            <BatchCounts counts={counts} expired={expired} />
            <Decision data={data} view={view} />
          </div>
        </section>
      </div>
      <Outcomes data={data} refreshSeconds={view.refreshSeconds} />
      <IntentsOfBatch data={data} />
      <AuditPanel events={audit} />
    </>
  );
};
