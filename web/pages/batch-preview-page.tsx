import type { FC } from "hono/jsx";
import type { DomainError } from "../../functions/domain/errors";
import type { BatchFilter, BatchPreview } from "../../functions/domain/retry-batches";
import { REASON_TEXT_MAX } from "../../functions/domain/retry-intents";
import { suggestReasonCode } from "../../functions/domain/suggested-reason";
import { previewHref } from "../batch-filter";
import {
  BatchFilterFields,
  BatchFilterHidden,
  BatchFilterSummary,
} from "../components/batch-filter";
import { CsrfField } from "../components/csrf-field";
import { JobLink } from "../components/links";
import { DomainErrorNotice } from "../components/notice";
import { adminPath } from "../context";
import { ReasonCodeOptions } from "./retry-form";

export interface BatchPreviewPageProps {
  /** The filter as the domain normalised it, or as typed when it refused it. */
  filter: BatchFilter;
  generators: string[];
  /** Absent when the filter was refused or matches more than a batch holds. */
  preview?: BatchPreview | undefined;
  error?: DomainError | undefined;
  /** What the filter meets now, when that differs from the refusal being reported. */
  followUp?: DomainError | undefined;
  canMutate: boolean;
  values?: { reasonCode?: string | undefined; reasonText?: string | undefined } | undefined;
  retryBudget: number;
  intentTtlHours: number;
}

const jobs = (n: number) => (n === 1 ? "1 job" : `${n} jobs`);

const Excluded: FC<{ preview: BatchPreview; retryBudget: number }> = ({ preview, retryBudget }) => {
  const { overBudget, pendingIntent } = preview.excluded;
  if (overBudget + pendingIntent === 0) {
    return (
      <p class="subtle">
        {preview.count === 0
          ? "No failed job that is still waiting for a decision matches this filter."
          : "The filter leaves nothing out."}
      </p>
    );
  }
  return (
    <>
      <p>The filter also matches failed jobs a batch leaves out:</p>
      <ul class="excluded">
        {overBudget > 0 ? (
          <li>
            <strong>{jobs(overBudget)}</strong> over the retry budget: their chains have used all{" "}
            {retryBudget} retries. Retry them one by one, with an explicit override, if they must.
          </li>
        ) : null}
        {pendingIntent > 0 ? (
          <li>
            <strong>{jobs(pendingIntent)}</strong> with a retry intent already pending: execute or
            reject those first (<a href={adminPath("/retry-intents")}>pending intents</a>).
          </li>
        ) : null}
      </ul>
    </>
  );
};

const ApproveForm: FC<BatchPreviewPageProps & { preview: BatchPreview }> = ({
  filter,
  preview,
  values,
  intentTtlHours,
}) => {
  const suggested = filter.errorCode
    ? suggestReasonCode({ code: filter.errorCode, message: "" })
    : undefined;
  return (
    <form method="post" action={adminPath("/retry-batches")}>
      <CsrfField />
      <BatchFilterHidden filter={filter} />
      <input type="hidden" name="previewToken" value={preview.previewToken} />
      <div class="field">
        <label for="batch-reasonCode">Reason code</label>
        <select id="batch-reasonCode" name="reasonCode" required>
          <ReasonCodeOptions selected={values?.reasonCode} suggested={suggested} />
        </select>
        {suggested ? (
          <span class="hint">Suggested from the error code; choose what fits.</span>
        ) : null}
      </div>
      <div class="field">
        <label for="batch-reasonText">Reason</label>
        <textarea
          id="batch-reasonText"
          name="reasonText"
          required
          maxlength={REASON_TEXT_MAX}
          aria-describedby="batch-reasonText-hint"
        >
          {values?.reasonText ?? ""}
        </textarea>
        <span id="batch-reasonText-hint" class="hint">
          Why these retries should succeed now. Every intent of the batch carries it, with your
          name; it cannot be changed later.
        </span>
      </div>
      <div class="actions">
        <button type="submit" class="button button-primary">
          Approve {preview.count === 1 ? "1 retry" : `${preview.count} retries`}
        </button>
        <span class="hint">
          Nothing runs yet: the batch is then executed from its page. Its intents expire after{" "}
          {intentTtlHours} hours.
        </span>
      </div>
    </form>
  );
};

/**
 * The first step of a batch: which failed jobs a filter takes, which it leaves out and why, and
 * the approval form for exactly that set. The preview's token travels with the form, so a set
 * that changed in between is refused rather than approved unseen.
 */
export const BatchPreviewPage: FC<BatchPreviewPageProps> = (props) => {
  const { filter, generators, preview, error, followUp, canMutate, retryBudget } = props;
  return (
    <>
      <div class="page-head">
        <div>
          <div class="crumbs">
            <a href={adminPath("/retry-batches")}>Retry batches</a> / new
          </div>
          <h1>Retry failed jobs as a batch</h1>
          <p class="subtle">
            One decision for many failed jobs: each gets its own retry intent with the same reason.
            Nothing runs until the batch is executed.
          </p>
        </div>
      </div>
      {error ? <DomainErrorNotice error={error} /> : null}
      {followUp ? <DomainErrorNotice error={followUp} /> : null}
      <section class="panel" aria-labelledby="filter-title">
        <header>
          <h2 id="filter-title">Filter</h2>
        </header>
        <div class="panel-body">
          <form method="get" action={adminPath("/retry-batches/new")} class="filters">
            <BatchFilterFields filter={filter} generators={generators} />
            <button type="submit" class="button">
              Preview
            </button>
            <a href={previewHref({})}>Clear</a>
          </form>
        </div>
      </section>
      {preview ? (
        <>
          <div class="columns">
            <section class="panel" aria-labelledby="preview-title">
              <header>
                <h2 id="preview-title">Preview</h2>
              </header>
              <div class="panel-body">
                <p class="big-count" id="preview-count">
                  <strong>{preview.count}</strong>{" "}
                  {preview.count === 1 ? "failed job" : "failed jobs"} would be retried
                </p>
                <p class="subtle">
                  <BatchFilterSummary filter={filter} />, not yet retried, with no pending intent
                  and within the retry budget of {retryBudget}.
                </p>
                <Excluded preview={preview} retryBudget={retryBudget} />
              </div>
            </section>
            <section class="panel" aria-labelledby="approve-title">
              <header>
                <h2 id="approve-title">Approve</h2>
              </header>
              <div class="panel-body">
                {preview.count === 0 ? (
                  <p class="subtle">
                    No failed job this filter matches can be retried now, so there is nothing to
                    approve.
                  </p>
                ) : canMutate ? (
                  <ApproveForm {...props} preview={preview} />
                ) : (
                  <p class="subtle">
                    You are signed in as a viewer: you can read everything, but only an admin can
                    approve a batch.
                  </p>
                )}
              </div>
            </section>
          </div>
          {preview.count > 0 ? (
            <section class="panel" aria-labelledby="jobs-title">
              <header>
                <h2 id="jobs-title">Jobs it would retry ({preview.count})</h2>
              </header>
              <div class="panel-body">
                <ol class="id-list" aria-labelledby="jobs-title">
                  {preview.jobIds.map((id) => (
                    <li>
                      <JobLink id={id} />
                    </li>
                  ))}
                </ol>
              </div>
            </section>
          ) : null}
        </>
      ) : null}
    </>
  );
};
