import type { FC } from "hono/jsx";
import type { DomainError } from "../../functions/domain/errors";
import type { IntentDetail } from "../../functions/domain/read-models";
import { Actor } from "../components/actor";
import { ApprovalFacts } from "../components/approval-facts";
import { AuditPanel } from "../components/audit-table";
import { hasCorrectedInput, KIND_NAMES } from "../components/intent-table";
import { ReadOnlyJsonComparison, ReadOnlyJsonViewer } from "../components/json-viewer";
import { BatchLink, JobLink } from "../components/links";
import { DomainErrorNotice, Notice } from "../components/notice";
import { RejectForm } from "../components/reject-form";
import { IntentStatusBadge, JobStatusBadge } from "../components/status-badge";
import { ExpiresIn, formatUtc, hasExpired, Time } from "../components/time";
import { JobVersions, SameVersionWarning } from "../components/versions";
import { adminPath } from "../context";

export type IntentPageData = IntentDetail;

/**
 * The input an intent's new job runs with, as the source's input beside the corrected one
 * with what differs marked; null when the intent keeps the source's input.
 */
export const InputChange: FC<{ data: IntentPageData }> = ({ data }) => {
  const { intent, sourceJob } = data;
  if (!hasCorrectedInput(intent)) return null;
  return (
    <section class="panel" id="input-change" aria-labelledby="input-change-title">
      <header>
        <h2 id="input-change-title">Input: before → after</h2>
        <span class="subtle">read-only · the job's own input is never changed</span>
      </header>
      <div class="panel-body">
        <ReadOnlyJsonComparison
          before={sourceJob.input}
          after={intent.input}
          beforeLabel={
            <>
              Before: the input of job <JobLink id={sourceJob.id} short />
            </>
          }
          afterLabel="After: the corrected input the new job runs with"
        />
      </div>
    </section>
  );
};

/** The version the source job ran under, and the one its new job would run under now. */
export const VersionFacts: FC<{ data: IntentPageData }> = ({ data }) => (
  <>
    <dt>Generator version</dt>
    <dd>
      the source job <JobVersions versions={data.versions} status={data.sourceJob.status} />
    </dd>
  </>
);

export interface IntentPageView {
  canMutate: boolean;
  /** Set when the four-eyes rule stops this admin from executing: they approved it. */
  fourEyesBlocked: boolean;
  notice?: string | undefined;
  error?: DomainError | undefined;
  rejectText?: string | undefined;
  /** A rejection refused: shown beside the reject form, or at the top when it is gone. */
  rejectError?: DomainError | undefined;
}

const intentHref = (id: string, rest = "") =>
  adminPath(`/retry-intents/${encodeURIComponent(id)}${rest}`);

const Decision: FC<{ data: IntentPageData; view: IntentPageView }> = ({ data, view }) => {
  const { intent, sourceJob, resultingJob: createdJob } = data;
  if (intent.status === "CONSUMED") {
    return (
      <p>
        Executed by <Actor actor={intent.consumedBy} /> <Time value={intent.consumedAt} />. It
        created job {createdJob ? <JobLink id={createdJob.id} /> : "—"}
        {createdJob ? (
          <>
            {" "}
            <JobStatusBadge status={createdJob.status} />
          </>
        ) : null}
        . An intent is executed once; it cannot be executed again.
      </p>
    );
  }
  if (intent.status === "REJECTED") {
    return (
      <>
        <p>
          Rejected by <Actor actor={intent.rejectedBy} /> <Time value={intent.rejectedAt} />.
        </p>
        <blockquote class="notice">{intent.rejectionText}</blockquote>
        <p class="subtle">
          To {intent.kind === "SUPERSEDE" ? "supersede its result" : "retry the job"} after all,
          create a new intent on the <JobLink id={sourceJob.id} /> page.
        </p>
      </>
    );
  }
  const expired = hasExpired(intent);
  if (!view.canMutate) {
    return expired ? (
      <p class="subtle" id="execute-blocked">
        This intent expired before anyone executed it. It can no longer be executed; the worker's
        sweep will reject it.
      </p>
    ) : (
      <p class="subtle">Pending: waiting for an admin to execute or reject it.</p>
    );
  }
  return (
    <>
      <div class="field">
        {expired ? null : (
          <p>
            Executing creates a new regeneration job with the generator of job{" "}
            <JobLink id={sourceJob.id} short /> and{" "}
            {hasCorrectedInput(intent) ? "the corrected input below" : "its input"}, linked to it.
            {intent.kind === "SUPERSEDE"
              ? " Its output will be the chain's latest; the completed job and its output stay as they are."
              : null}{" "}
            You confirm on the next step.
          </p>
        )}
        {expired ? (
          <p class="subtle" id="execute-blocked">
            This intent expired <Time value={intent.expiresAt} relative />, before anyone executed
            it, so it can no longer be executed. The worker's sweep will reject it; reject it now to
            approve a new intent for the job at once.
          </p>
        ) : view.fourEyesBlocked ? (
          <p class="subtle" id="execute-blocked">
            You approved this intent, and the four-eyes rule is on: another admin has to execute it.
          </p>
        ) : (
          <div class="actions">
            <a class="button button-primary" href={intentHref(intent.id, "/execute")}>
              Execute…
            </a>
          </div>
        )}
      </div>
      <hr class="rule" />
      <RejectForm
        action={intentHref(intent.id)}
        idPrefix="reject"
        text={view.rejectText}
        error={view.rejectError}
      >
        Reject intent
      </RejectForm>
    </>
  );
};

/** One retry intent: what was approved, by whom and why, what became of it, and its audit trail. */
export const IntentPage: FC<{ data: IntentPageData; view: IntentPageView }> = ({ data, view }) => {
  const { intent, sourceJob, audit } = data;
  const names = KIND_NAMES[intent.kind];
  return (
    <>
      <div class="page-head">
        <div>
          <div class="crumbs">
            <a href={adminPath("/retry-intents")}>Retry intents</a> / intent
          </div>
          <div class="title">
            <h1 class="id">{intent.id}</h1>
            <IntentStatusBadge status={intent.status} />
            <span class="chip">{names.kind}</span>
          </div>
        </div>
        <a href={adminPath(`/audit?subjectId=${encodeURIComponent(intent.id)}`)}>Audit events →</a>
      </div>
      {view.notice ? <Notice kind="success">{view.notice}</Notice> : null}
      {view.error ? <DomainErrorNotice error={view.error} /> : null}
      {view.rejectError && !(intent.status === "PENDING" && view.canMutate) ? (
        <DomainErrorNotice error={view.rejectError} />
      ) : null}
      {intent.status === "PENDING" ? (
        <SameVersionWarning intent={intent} versions={data.versions} />
      ) : null}
      <div class="columns">
        <section class="panel" aria-labelledby="intent-title">
          <header>
            <h2 id="intent-title">{names.intent}</h2>
          </header>
          <div class="panel-body">
            <dl class="meta">
              <dt>Status</dt>
              <dd>
                <IntentStatusBadge status={intent.status} />
              </dd>
              <dt>Kind</dt>
              <dd>
                {names.kind}{" "}
                <span class="subtle">
                  {intent.kind === "SUPERSEDE"
                    ? "· a new job replaces a COMPLETED job's result"
                    : "· a FAILED job runs again"}
                </span>
              </dd>
              <dt>{names.source}</dt>
              <dd>
                <JobLink id={sourceJob.id} /> <JobStatusBadge status={sourceJob.status} />
              </dd>
              <dt>Generator</dt>
              <dd class="mono">{sourceJob.generator}</dd>
              <VersionFacts data={data} />
              <dt>Input</dt>
              <dd>
                {hasCorrectedInput(intent) ? (
                  <a href="#input-change">corrected: before → after below</a>
                ) : (
                  <span class="subtle">the source job's, unchanged</span>
                )}
              </dd>
              <ApprovalFacts decision={intent} />
              <dt>Expires</dt>
              <dd>
                {intent.status === "PENDING" ? (
                  <>
                    <ExpiresIn value={intent.expiresAt} />{" "}
                    <span class="faint">({formatUtc(intent.expiresAt)})</span>
                  </>
                ) : (
                  <span>
                    {formatUtc(intent.expiresAt)}{" "}
                    <span class="faint">· no longer relevant: the intent was decided</span>
                  </span>
                )}
              </dd>
              {intent.budgetOverride ? (
                <>
                  <dt>Retry budget</dt>
                  <dd>
                    <span class="badge badge-override">budget override</span>{" "}
                    <span class="subtle">approved past the chain's retry budget</span>
                  </dd>
                </>
              ) : null}
              {intent.batchId ? (
                <>
                  <dt>Batch</dt>
                  <dd>
                    <BatchLink id={intent.batchId} />
                  </dd>
                </>
              ) : null}
              {intent.sourceOutputRef ? (
                <>
                  <dt>Output reference</dt>
                  <dd class="mono">{intent.sourceOutputRef}</dd>
                </>
              ) : null}
            </dl>
          </div>
        </section>
        <section class="panel" aria-labelledby="decision-title">
          <header>
            <h2 id="decision-title">Decision</h2>
          </header>
          <div class="panel-body">
            <Decision data={data} view={view} />
          </div>
        </section>
      </div>
      <InputChange data={data} />
      <section class="panel" aria-labelledby="json-title">
        <header>
          <h2 id="json-title">Full record</h2>
        </header>
        <div class="panel-body">
          <ReadOnlyJsonViewer value={intent} label="retry intent" />
        </div>
      </section>
      <AuditPanel events={audit} />
    </>
  );
};
