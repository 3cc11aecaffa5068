import type { FC } from "hono/jsx";
import type { DomainError } from "../../functions/domain/errors";
import type {
  BatchFilter,
  BatchPreview,
  FailureWindows,
  PreviewJob,
} from "../../functions/domain/retry-batches";
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
import { DomainErrorNotice, Notice } from "../components/notice";
import { formatUtc, Time } from "../components/time";
import { adminPath } from "../context";
import { ReasonCodeOptions } from "./retry-form";

export interface BatchPreviewPageProps {
  /** The filter as the domain normalised it, or as typed when it refused it. */
  filter: BatchFilter;
  generators: string[];
  /** The error codes failed jobs have on record, for the filter's choice. */
  errorCodes: string[];
  /** Absent when the filter was refused or matches more than a batch holds. */
  preview?: BatchPreview | undefined;
  /** When the filter matches more than a batch holds: its split by failure time. */
  windows?: FailureWindows | undefined;
  error?: DomainError | undefined;
  /** What the filter meets now, when that differs from the refusal being reported. */
  followUp?: DomainError | undefined;
  canMutate: boolean;
  /**
   * What the refused approval carried, shown again: the reason as typed and, when the admin
   * chose jobs, the jobs chosen (the others are listed unchecked).
   */
  values?:
    | {
        reasonCode?: string | undefined;
        reasonText?: string | undefined;
        jobIds?: string[] | undefined;
      }
    | undefined;
  retryBudget: number;
  retryBatchMax: number;
  intentTtlHours: number;
}

/** The form the job checkboxes belong to, wherever the page places them. */
const APPROVE_FORM = "batch-approve";

/** Whether a job is checked: all are, unless the admin's own choice comes back. */
const isChecked = (values: BatchPreviewPageProps["values"], id: string) =>
  values?.jobIds ? values.jobIds.includes(id) : true;

const jobs = (n: number) => (n === 1 ? "1 job" : `${n} jobs`);

const Excluded: FC<{ preview: BatchPreview; retryBudget: number }> = ({ preview, retryBudget }) => {
  const { overBudget, pendingIntent, rejected } = preview.excluded;
  if (overBudget + pendingIntent + rejected === 0) {
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
        {rejected > 0 ? (
          <li>
            <strong>{jobs(rejected)}</strong> whose retry a person rejected: leaving them failed was
            a decision, which a batch does not undo. Retry them one by one if that changed.
          </li>
        ) : null}
      </ul>
    </>
  );
};

/**
 * The error codes of the jobs a batch would take, most frequent first. A batch records one
 * reason for all of them: when they failed in several ways, the page says so and links each
 * code's own preview.
 */
const CodeCounts: FC<{ filter: BatchFilter; preview: BatchPreview }> = ({ filter, preview }) => {
  const codes = Object.entries(preview.byErrorCode).sort(
    ([a, m], [b, n]) => n - m || (a < b ? -1 : 1),
  );
  if (codes.length === 0) return null;
  return (
    <>
      <table class="grid code-counts" aria-label="Jobs by error code">
        <thead>
          <tr>
            <th scope="col">Error code</th>
            <th scope="col" class="num">
              Jobs
            </th>
            {codes.length > 1 ? <th scope="col">Narrow to it</th> : null}
          </tr>
        </thead>
        <tbody>
          {codes.map(([code, n]) => (
            <tr>
              <td class="mono">{code}</td>
              <td class="num">{n}</td>
              {codes.length > 1 ? (
                <td>
                  <a href={previewHref({ ...filter, errorCode: code })}>
                    preview <span class="sr-only">{code}</span> alone
                  </a>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      {codes.length > 1 ? (
        <Notice kind="warn">
          These jobs failed with {codes.length} different error codes, and a batch gives them all
          one reason. A timeout, a server error and an invalid input are rarely fixed by the same
          thing: narrow the filter to one error code to decide each on its own.
        </Notice>
      ) : null}
    </>
  );
};

/**
 * The reason a batch's failures suggest: from the filter's error code, or the one code every
 * job shares. None when they differ: the admin chooses.
 */
function suggestedFor(filter: BatchFilter, preview: BatchPreview) {
  const codes = Object.keys(preview.byErrorCode);
  const code = filter.errorCode ?? (codes.length === 1 ? codes[0] : undefined);
  return code ? suggestReasonCode({ code, message: "" }) : undefined;
}

/** How many of the listed jobs the approval takes, as the form says it. */
function checkedWords(checked: number, listed: number): string {
  if (checked === listed) {
    return listed === 1
      ? "The job listed below is checked: uncheck it to leave it out."
      : `All ${listed} jobs listed below are checked: uncheck any to leave it out.`;
  }
  return `${checked} of the ${jobs(listed)} listed below ${checked === 1 ? "is" : "are"} checked.`;
}

const ApproveForm: FC<BatchPreviewPageProps & { preview: BatchPreview }> = ({
  filter,
  preview,
  values,
  intentTtlHours,
}) => {
  const suggested = suggestedFor(filter, preview);
  const checked = preview.jobIds.filter((id) => isChecked(values, id)).length;
  return (
    <form method="post" action={adminPath("/retry-batches")} id={APPROVE_FORM}>
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
        ) : (
          <span class="hint">
            None is suggested: the jobs' error codes say nothing about a cause, or they differ.
          </span>
        )}
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
        {/* The button says the jobs come from the checkboxes: a form sent without it (no
            checkbox, as before there were any) approves the whole previewed set. */}
        <button type="submit" class="button button-primary" name="selection" value="checked">
          Approve the checked jobs
        </button>
        <span class="hint" id="approve-checked">
          {checkedWords(checked, preview.count)} Nothing runs yet: the batch is then executed from
          its page. Its intents expire after {intentTtlHours} hours.
        </span>
      </div>
    </form>
  );
};

/**
 * The jobs a batch would take, each with its failure; for an admin, each with the checkbox
 * that keeps it in the approval (all checked at first).
 */
const PreviewJobs: FC<{
  preview: BatchPreview;
  canMutate: boolean;
  values: BatchPreviewPageProps["values"];
}> = ({ preview, canMutate, values }) => (
  <section class="panel" aria-labelledby="jobs-title">
    <header>
      <h2 id="jobs-title">Jobs it would retry ({preview.count})</h2>
      {canMutate ? <span class="subtle">only the checked jobs are approved</span> : null}
    </header>
    <div class="table-wrap scroll">
      <table class="grid cards preview-jobs">
        <thead>
          <tr>
            {canMutate ? (
              <th scope="col">
                <span class="sr-only">Approve</span>
              </th>
            ) : null}
            <th scope="col">Job</th>
            <th scope="col">Error code</th>
            <th scope="col">Message</th>
            <th scope="col">Failed</th>
          </tr>
        </thead>
        <tbody>
          {preview.jobs.map((job) => (
            <PreviewJobRow job={job} canMutate={canMutate} checked={isChecked(values, job.id)} />
          ))}
        </tbody>
      </table>
    </div>
  </section>
);

const PreviewJobRow: FC<{ job: PreviewJob; canMutate: boolean; checked: boolean }> = ({
  job,
  canMutate,
  checked,
}) => {
  const message = job.errorMessage ?? "";
  return (
    <tr>
      {canMutate ? (
        <td data-label="Approve">
          <input
            type="checkbox"
            form={APPROVE_FORM}
            name="jobIds"
            value={job.id}
            checked={checked}
            aria-label={`Approve a retry of job ${job.id}`}
          />
        </td>
      ) : null}
      <td data-label="Job">
        <JobLink id={job.id} short />
      </td>
      <td class="mono" data-label="Error code">
        {job.errorCode ?? ""}
      </td>
      <td class="wrap error-text" data-label="Message">
        {message}
      </td>
      <td data-label="Failed">
        <Time value={job.failedAt ? new Date(job.failedAt) : null} />
      </td>
    </tr>
  );
};

/** A window's bound as the page writes times, to the millisecond when it falls within a second. */
function instant(iso: string): string {
  const date = new Date(iso);
  const ms = date.getUTCMilliseconds();
  return ms === 0
    ? formatUtc(date)
    : formatUtc(date).replace(" UTC", `.${String(ms).padStart(3, "0")} UTC`);
}

/**
 * A filter over RETRY_BATCH_MAX, split by failure time: each window a link to its own preview,
 * with the filter's generator and error code and the window's bounds.
 */
const WindowsPanel: FC<{ filter: BatchFilter; windows: FailureWindows; max: number }> = ({
  filter,
  windows: { windows, rest },
  max,
}) => (
  <section class="panel" aria-labelledby="windows-title">
    <header>
      <h2 id="windows-title">Split by failure time</h2>
    </header>
    <div class="panel-body">
      <p>
        A batch holds at most {max} jobs. Each window below holds at most {max} of the failures this
        filter matches, in the order they failed: preview and approve them one at a time.
        {rest?.cause === "MORE_WINDOWS" ? ` Only the first ${windows.length} are shown.` : ""}
      </p>
      {windows.length > 0 ? (
        <div class="table-wrap">
          <table class="grid cards failure-windows">
            <thead>
              <tr>
                <th scope="col">Failed from</th>
                <th scope="col">Failed before</th>
                <th scope="col" class="num">
                  Failed jobs
                </th>
                <th scope="col">Preview</th>
              </tr>
            </thead>
            <tbody>
              {windows.map((w, i) => (
                <tr>
                  <td class="nowrap" data-label="Failed from">
                    {instant(w.failedAfter)}
                  </td>
                  <td class="nowrap" data-label="Failed before">
                    {w.failedBefore ? instant(w.failedBefore) : "now"}
                  </td>
                  <td class="num" data-label="Failed jobs">
                    {w.count}
                  </td>
                  <td data-label="Preview">
                    <a
                      href={previewHref({
                        ...filter,
                        failedAfter: w.failedAfter,
                        failedBefore: w.failedBefore ?? undefined,
                      })}
                    >
                      Preview window {i + 1}
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <p class="subtle">
        A window's count is of failures not yet retried; its preview leaves out those over the retry
        budget or with an intent pending.
      </p>
      {rest?.cause === "MORE_WINDOWS" ? (
        <p>
          Failures from {instant(rest.failedAfter)} on are not split yet:{" "}
          <a href={previewHref({ ...filter, failedAfter: rest.failedAfter })}>
            split the failures from there
          </a>
          .
        </p>
      ) : rest?.cause === "SAME_INSTANT" ? (
        <p>
          More than {max} of these jobs failed within the same millisecond, from{" "}
          {instant(rest.failedAfter)}: no failure window can split them. Narrow the filter by
          generator or error code.
        </p>
      ) : null}
    </div>
  </section>
);

/**
 * The first step of a batch: which failed jobs a filter takes, which it leaves out and why, and
 * the approval form for exactly that set. The preview's token travels with the form, so a set
 * that changed in between is refused rather than approved unseen.
 */
export const BatchPreviewPage: FC<BatchPreviewPageProps> = (props) => {
  const { filter, generators, errorCodes, preview, windows, error, followUp, canMutate } = props;
  const { retryBudget, retryBatchMax, values } = props;
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
            <BatchFilterFields filter={filter} generators={generators} errorCodes={errorCodes} />
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
                <CodeCounts filter={filter} preview={preview} />
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
            <PreviewJobs preview={preview} canMutate={canMutate} values={values} />
          ) : null}
        </>
      ) : null}
      {windows ? <WindowsPanel filter={filter} windows={windows} max={retryBatchMax} /> : null}
    </>
  );
};
