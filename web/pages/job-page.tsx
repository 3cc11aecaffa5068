import type { FC } from "hono/jsx";
import type { AuditEvent, Output } from "../../db/schema";
import type { DomainError } from "../../functions/domain/errors";
import type { JobDetail, NearbyFailures } from "../../functions/domain/read-models";
import { refusal } from "../../functions/domain/refusals";
import { suggestReasonCode } from "../../functions/domain/suggested-reason";
import { Actor } from "../components/actor";
import { AuditPanel } from "../components/audit-table";
import { AttemptDuration } from "../components/duration";
import { IntentTable } from "../components/intent-table";
import { JobErrorBox } from "../components/job-error";
import { ReadOnlyJsonComparison, ReadOnlyJsonViewer } from "../components/json-viewer";
import { Lineage } from "../components/lineage";
import { IntentLink, JobLink } from "../components/links";
import { NearbyFailuresNotice } from "../components/nearby-failures";
import { DomainErrorNotice, Notice } from "../components/notice";
import { JobStatusBadge } from "../components/status-badge";
import { Time } from "../components/time";
import { JobVersions } from "../components/versions";
import { adminPath } from "../context";
import { CHANGING_LIST, type RetryFormValues, RetryIntentForm } from "./retry-form";

export interface JobPageData extends JobDetail {
  /** intent id → the job it created, for the intents of this job. */
  createdJobs: Map<string, string>;
  audit: AuditEvent[];
  /** The output of the newest job of the chain, when that is another job and has one. */
  latestOutput?: Output | undefined;
  /** For a FAILED job: the failures like it in the hour before it failed. */
  nearbyFailures?: NearbyFailures | undefined;
}

/** A refused form, shown again with what was typed and why it was refused. */
export interface JobForm {
  values: RetryFormValues;
  error?: DomainError;
}

/** The job that retried or superseded this one, if any: a job has at most one successor. */
const successorOf = (data: JobPageData) =>
  data.lineage.find((e) => e.job.retryOfJobId === data.job.id)?.job;

/** The job this one retried or superseded, if any. */
const predecessorOf = (data: JobPageData) =>
  data.lineage.find((e) => e.job.id === data.job.retryOfJobId)?.job;

/** How many retries stand between this job and its chain's original: 0 for the original. */
export const depthOf = (data: JobPageData): number =>
  data.lineage.find((e) => e.job.id === data.job.id)?.depth ?? 0;

/** "retry 2 of 3": where this job sits in its chain's retry budget. */
export function retryUsage(depth: number, budget: number): string {
  const used =
    depth === 0 ? `original job, 0 of ${budget} retries used` : `retry ${depth} of ${budget}`;
  if (depth > budget) return `${used} · past the budget, by an override`;
  if (depth === budget) return `${used} · budget used up`;
  return used;
}

/**
 * Why this job cannot be retried now, or undefined when it can: the database's own answer
 * (`retryRefusal`, read with the job), worded for the page. A spent budget is no blocker: the
 * form stays open for an explicit override.
 */
export function retryBlocker(data: JobPageData): string | undefined {
  switch (data.retryRefusal?.code) {
    case "JOB_NOT_FAILED":
      return `Only a FAILED job can be retried; this job is ${data.job.status}.`;
    case "JOB_ALREADY_RETRIED":
      return "This job was already retried. A job is retried at most once: to try again, retry the newest failed job of the chain.";
    case "INTENT_ALREADY_PENDING":
      return "A retry intent for this job is pending. Execute or reject it first.";
    default:
      return undefined;
  }
}

/**
 * Why this COMPLETED job's result cannot be superseded now, or undefined when it can: the
 * database's own answer for a supersession (`retryRefusal`), worded for the page. As for a
 * retry, a spent budget is no blocker: the form offers the override.
 */
export function supersedeBlocker(data: JobPageData): string | undefined {
  const code = data.retryRefusal?.code;
  switch (code) {
    case undefined:
    case "RETRY_BUDGET_EXHAUSTED":
      return undefined;
    case "JOB_ALREADY_RETRIED":
      return "This result was already superseded. A job has at most one successor: to replace the newest result, supersede the newest job of the chain.";
    case "INTENT_ALREADY_PENDING":
      return "An intent for this job is pending. Execute or reject it first.";
    default:
      return refusal(code, data.retryRefusal?.details ?? {}).message;
  }
}

const ViewerNote: FC = () => (
  <p class="subtle">
    You are signed in as a viewer: you can read everything, but only an admin can create, execute or
    reject retry intents.
  </p>
);

const RetrySection: FC<{
  data: JobPageData;
  canMutate: boolean;
  form?: JobForm | undefined;
}> = ({ data, canMutate, form }) => {
  const { job, intents, createdJobs, lineage, retryBudget } = data;
  const blocker = retryBlocker(data);
  const retry = lineage.find((e) => e.job.retryOfJobId === job.id);
  const pending = intents.find((i) => i.status === "PENDING");
  const depth = depthOf(data);
  const exhausted = data.retryRefusal?.code === "RETRY_BUDGET_EXHAUSTED";
  return (
    <section class="panel" id="retry" aria-labelledby="retry-title">
      <header>
        <h2 id="retry-title">Retry</h2>
        <a href={adminPath(`/jobs/${encodeURIComponent(job.id)}/retry-intents`)}>
          All intents for this job ({intents.length})
        </a>
      </header>
      {intents.length > 0 ? (
        <IntentTable intents={intents} createdJobs={createdJobs} />
      ) : (
        <p class="empty">No retry intent has been recorded for this job.</p>
      )}
      <div class="panel-body">
        {canMutate ? (
          <>
            {blocker ? (
              <p id="retry-disabled-reason" class="subtle">
                {blocker}{" "}
                {retry ? (
                  <span>
                    Retry: <JobLink id={retry.job.id} />.
                  </span>
                ) : pending ? (
                  <span>
                    Pending intent: <IntentLink id={pending.id} />.
                  </span>
                ) : null}
              </p>
            ) : null}
            {exhausted ? (
              <p id="budget-exhausted" class="notice notice-warn">
                This chain has used its retry budget of {retryBudget}{" "}
                {retryBudget === 1 ? "retry" : "retries"} (this job is{" "}
                {depth === 0 ? "the original" : `retry ${depth}`}). Another retry is an exception:
                it needs an explicit override, with reason code OTHER and the reason for the
                exception.
              </p>
            ) : !blocker ? (
              <p class="subtle">
                Retrying it creates retry {depth + 1} of {retryBudget} in this chain.
              </p>
            ) : null}
            <RetryIntentForm
              jobId={job.id}
              generator={job.generator}
              version={data.versions.current}
              disabledBecause={blocker}
              values={form?.values}
              suggested={suggestReasonCode(job.error)}
              budgetExhausted={exhausted}
              error={form?.error}
            />
          </>
        ) : (
          <ViewerNote />
        )}
      </div>
    </section>
  );
};

/**
 * A COMPLETED job's section: its intents, and the form that records a supersession, or why
 * there can be none now. Unlike the retry form, which stays on a failed job's page disabled, the
 * form is left out when the job cannot be superseded: the sentence that says why takes its
 * place, for admins and viewers alike.
 */
const SupersedeSection: FC<{
  data: JobPageData;
  canMutate: boolean;
  form?: JobForm | undefined;
}> = ({ data, canMutate, form }) => {
  const { job, intents, createdJobs, retryBudget, latest } = data;
  const blocker = supersedeBlocker(data);
  const successor = successorOf(data);
  const pending = intents.find((i) => i.status === "PENDING");
  const exhausted = data.retryRefusal?.code === "RETRY_BUDGET_EXHAUSTED";
  return (
    <section class="panel" id="supersede" aria-labelledby="supersede-title">
      <header>
        <h2 id="supersede-title">Supersede</h2>
        <a href={adminPath(`/jobs/${encodeURIComponent(job.id)}/retry-intents`)}>
          All intents for this job ({intents.length})
        </a>
      </header>
      {intents.length > 0 ? (
        <IntentTable intents={intents} createdJobs={createdJobs} />
      ) : (
        <p class="empty">No intent has been recorded for this job.</p>
      )}
      <div class="panel-body">
        {/* Beside the form when there is one; here when the job can no longer be superseded. */}
        {form?.error && (blocker || !canMutate) ? <DomainErrorNotice error={form.error} /> : null}
        <p class="subtle">
          Superseding replaces this result with a new job's: an admin records why (reason code{" "}
          {CHANGING_LIST}) and, if the input was wrong, a corrected input; executing the intent
          creates the new job, linked to this one. This job and its output stay as they are.
        </p>
        {blocker ? (
          <p id="supersede-blocked" class="subtle">
            {blocker}{" "}
            {successor ? (
              <span>
                The newest job of this chain: <JobLink id={latest.jobId} />{" "}
                <JobStatusBadge status={latest.status} />.
              </span>
            ) : pending ? (
              <span>
                Pending intent: <IntentLink id={pending.id} />.
              </span>
            ) : null}
          </p>
        ) : canMutate ? (
          <>
            {exhausted ? (
              <p id="budget-exhausted" class="notice notice-warn">
                This chain has used its retry budget of {retryBudget}{" "}
                {retryBudget === 1 ? "retry" : "retries"}, and a supersession counts against it like
                a retry. Superseding this result is an exception: it needs an explicit override,
                with reason code OTHER and the reason for the exception.
              </p>
            ) : null}
            <RetryIntentForm
              kind="SUPERSEDE"
              jobId={job.id}
              generator={job.generator}
              version={data.versions.current}
              values={form?.values}
              budgetExhausted={exhausted}
              error={form?.error}
            />
          </>
        ) : null}
        {canMutate ? null : <ViewerNote />}
      </div>
    </section>
  );
};

/** Where the chain went after this job: its successor, and the newest job of the chain. */
const SuccessorNotice: FC<{ data: JobPageData }> = ({ data }) => {
  const successor = successorOf(data);
  if (!successor) return null;
  const { job, latest } = data;
  return (
    <Notice kind="info" id="successor">
      <p>
        {job.status === "COMPLETED" ? "Superseded by" : "Retried by"} job{" "}
        <JobLink id={successor.id} /> <JobStatusBadge status={successor.status} />.{" "}
        {job.status === "COMPLETED" ? "This job and its output stay as they were. " : null}
        The newest job of this chain: <JobLink id={latest.jobId} />{" "}
        <JobStatusBadge status={latest.status} />.
      </p>
    </Notice>
  );
};

/**
 * A superseded output beside the chain's latest, with the lines that differ marked: shown once
 * the newest job has COMPLETED, so that what replaced this result can be read against it.
 */
const OutputComparison: FC<{ data: JobPageData }> = ({ data }) => {
  const { job, output, latest, latestOutput } = data;
  if (job.status !== "COMPLETED" || latest.status !== "COMPLETED") return null;
  if (!output || !latestOutput || latest.jobId === job.id) return null;
  return (
    <section class="panel" id="comparison" aria-labelledby="comparison-title">
      <header>
        <h2 id="comparison-title">This output and the latest</h2>
        <span class="subtle">read-only · keys sorted so that the two line up</span>
      </header>
      <div class="panel-body">
        <ReadOnlyJsonComparison
          before={output.content}
          after={latestOutput.content}
          beforeLabel={
            <>
              This job's output <span class="faint mono">{output.generatorVersion}</span>
            </>
          }
          afterLabel={
            <>
              Latest output, job <JobLink id={latest.jobId} short />{" "}
              <span class="faint mono">{latestOutput.generatorVersion}</span>
            </>
          }
        />
      </div>
    </section>
  );
};

export const JobPage: FC<{
  data: JobPageData;
  canMutate: boolean;
  notice?: string | undefined;
  form?: JobForm | undefined;
}> = ({ data, canMutate, notice, form }) => {
  const { job, output, lineage, audit } = data;
  const successor = successorOf(data);
  const predecessor = predecessorOf(data);
  return (
    <>
      <div class="page-head">
        <div>
          <div class="crumbs">
            <a href={adminPath()}>Jobs</a> / job
          </div>
          <div class="title">
            <h1 class="id">{job.id}</h1>
            <JobStatusBadge status={job.status} />
            <span class="chip">{job.generator}</span>
          </div>
        </div>
        <a href={adminPath(`/audit?subjectId=${encodeURIComponent(job.id)}`)}>Audit events →</a>
      </div>
      {notice ? <Notice kind="success">{notice}</Notice> : null}
      {job.error ? (
        // What the service answered may quote its data: admins read it, viewers are told of it.
        <JobErrorBox error={job.error} finishedAt={job.finishedAt} showBody={canMutate} />
      ) : null}
      {data.nearbyFailures ? <NearbyFailuresNotice job={job} nearby={data.nearbyFailures} /> : null}
      <SuccessorNotice data={data} />
      <section class="panel" aria-labelledby="lineage-title">
        <header>
          <h2 id="lineage-title">Lineage</h2>
          <span class="subtle">
            {lineage.length === 1
              ? "an original job, never retried"
              : `${lineage.length} jobs in this retry chain, oldest first`}
          </span>
        </header>
        <div class="panel-body">
          <Lineage entries={lineage} currentId={job.id} />
        </div>
      </section>
      <div class="columns">
        <section class="panel" aria-labelledby="meta-title">
          <header>
            <h2 id="meta-title">Job</h2>
          </header>
          <div class="panel-body">
            <dl class="meta">
              <dt>Generator</dt>
              <dd class="mono">{job.generator}</dd>
              <dt>Created by</dt>
              <dd>
                <Actor actor={job.createdBy} full />
              </dd>
              <dt>Created</dt>
              <dd>
                <Time value={job.createdAt} />
              </dd>
              <dt>Claimed by</dt>
              <dd>
                <Actor actor={job.claimedBy} />
              </dd>
              <dt>Claimed</dt>
              <dd>
                <Time value={job.claimedAt} />
              </dd>
              {job.status === "RUNNING" ? (
                <>
                  <dt>Lease expires</dt>
                  <dd>
                    <Time value={job.leaseExpiresAt} />
                  </dd>
                </>
              ) : null}
              <dt>Finished</dt>
              <dd>
                <Time value={job.finishedAt} />
              </dd>
              <dt>Attempt took</dt>
              <dd id="attempt-duration">
                <AttemptDuration job={job} />
              </dd>
              <dt>{predecessor?.status === "COMPLETED" ? "Supersedes" : "Retry of"}</dt>
              <dd>
                {job.retryOfJobId ? (
                  <JobLink id={job.retryOfJobId} />
                ) : (
                  <span class="faint">— (original)</span>
                )}
              </dd>
              {successor ? (
                <>
                  <dt>{job.status === "COMPLETED" ? "Superseded by" : "Retried by"}</dt>
                  <dd>
                    <JobLink id={successor.id} /> <JobStatusBadge status={successor.status} />
                  </dd>
                </>
              ) : null}
              <dt>Newest of chain</dt>
              <dd>
                {data.latest.jobId === job.id ? (
                  <span class="faint">this job</span>
                ) : (
                  <>
                    <JobLink id={data.latest.jobId} />{" "}
                    <JobStatusBadge status={data.latest.status} />
                  </>
                )}
              </dd>
              <dt>Generator version</dt>
              <dd>
                <JobVersions versions={data.versions} status={job.status} />
              </dd>
              <dt>Retry budget</dt>
              <dd>{retryUsage(depthOf(data), data.retryBudget)}</dd>
              <dt>Authorised by</dt>
              <dd>
                {job.retryIntentId ? (
                  <span>
                    intent <IntentLink id={job.retryIntentId} />
                  </span>
                ) : (
                  <span class="faint">—</span>
                )}
              </dd>
            </dl>
          </div>
        </section>
        <div>
          <section class="panel" aria-labelledby="input-title">
            <header>
              <h2 id="input-title">Input</h2>
            </header>
            <div class="panel-body">
              <ReadOnlyJsonViewer value={job.input} label="input" />
            </div>
          </section>
          <section class="panel" aria-labelledby="output-title">
            <header>
              <h2 id="output-title">Output</h2>
              {output ? (
                <span class="subtle mono" title={`sha256 ${output.contentSha256}`}>
                  {output.generatorVersion} · sha256 {output.contentSha256.slice(0, 12)}
                </span>
              ) : null}
            </header>
            <div class="panel-body">
              {output ? (
                <ReadOnlyJsonViewer value={output.content} label="output" />
              ) : (
                <p class="subtle">
                  {job.status === "FAILED"
                    ? "No output: the job failed."
                    : job.status === "COMPLETED"
                      ? "No output recorded."
                      : "No output yet."}
                </p>
              )}
            </div>
          </section>
        </div>
      </div>
      <OutputComparison data={data} />
      {job.status === "COMPLETED" ? (
        <SupersedeSection data={data} canMutate={canMutate} form={form} />
      ) : (
        <RetrySection data={data} canMutate={canMutate} form={form} />
      )}
      <AuditPanel events={audit} />
    </>
  );
};
