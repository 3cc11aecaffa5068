import type { FC } from "hono/jsx";
import type { AuditEvent } from "../../db/schema";
import type { DomainError } from "../../functions/domain/errors";
import type { JobDetail } from "../../functions/domain/read-models";
import { suggestReasonCode } from "../../functions/domain/suggested-reason";
import { Actor } from "../components/actor";
import { AuditPanel } from "../components/audit-table";
import { IntentTable } from "../components/intent-table";
import { ReadOnlyJsonViewer } from "../components/json-viewer";
import { Lineage } from "../components/lineage";
import { IntentLink, JobLink } from "../components/links";
import { DomainErrorNotice, Notice } from "../components/notice";
import { JobStatusBadge } from "../components/status-badge";
import { Time } from "../components/time";
import { adminPath } from "../context";
import { type RetryFormValues, RetryIntentForm } from "./retry-form";

export interface JobPageData extends JobDetail {
  /** intent id → the job it created, for the intents of this job. */
  createdJobs: Map<string, string>;
  audit: AuditEvent[];
}

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

const RetrySection: FC<{
  data: JobPageData;
  canMutate: boolean;
  form?: { values: RetryFormValues; error?: DomainError } | undefined;
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
        {form?.error ? <DomainErrorNotice error={form.error} /> : null}
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
              disabledBecause={blocker}
              values={form?.values}
              suggested={suggestReasonCode(job.error)}
              budgetExhausted={exhausted}
            />
          </>
        ) : (
          <p class="subtle">
            You are signed in as a viewer: you can read everything, but only an admin can create,
            execute or reject retry intents.
          </p>
        )}
      </div>
    </section>
  );
};

export const JobPage: FC<{
  data: JobPageData;
  canMutate: boolean;
  notice?: string | undefined;
  form?: { values: RetryFormValues; error?: DomainError } | undefined;
}> = ({ data, canMutate, notice, form }) => {
  const { job, output, lineage, audit } = data;
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
        <div class="error-box">
          <span class="code">{job.error.code}</span> {job.error.message}
          <span class="faint">
            {" "}
            · failed <Time value={job.finishedAt} relative />
          </span>
        </div>
      ) : null}
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
              <dt>Retry of</dt>
              <dd>
                {job.retryOfJobId ? (
                  <JobLink id={job.retryOfJobId} />
                ) : (
                  <span class="faint">— (original)</span>
                )}
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
                  v{output.generatorVersion} · sha256 {output.contentSha256.slice(0, 12)}
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
      <RetrySection data={data} canMutate={canMutate} form={form} />
      <AuditPanel events={audit} />
    </>
  );
};
