import type { FC } from "hono/jsx";
import type { Job, RetryIntent } from "../../db/schema";
import type { GeneratorVersions } from "../../functions/domain/read-models";
import { Actor } from "../components/actor";
import { CsrfField } from "../components/csrf-field";
import { hasCorrectedInput, KIND_NAMES } from "../components/intent-table";
import { ReadOnlyJsonComparison, ReadOnlyJsonViewer } from "../components/json-viewer";
import { JobLink } from "../components/links";
import { JobStatusBadge } from "../components/status-badge";
import { SameVersionWarning } from "../components/versions";
import { adminPath } from "../context";

/** The sentence every confirmation shows; tests and operators rely on its wording. */
export const EXECUTE_WARNING = "This will create a new regeneration job.";

/**
 * The confirmation step of Execute. It is a page rather than a script dialog so that the
 * flow works without JavaScript and the Confirm button is an ordinary POST form. It says what
 * the new job will run: which generator at which version, and which input (the source's, or the
 * corrected one beside it).
 */
export const ExecutePage: FC<{
  intent: RetryIntent;
  sourceJob: Job;
  versions: GeneratorVersions;
}> = ({ intent, sourceJob, versions }) => {
  const intentHref = adminPath(`/retry-intents/${encodeURIComponent(intent.id)}`);
  const names = KIND_NAMES[intent.kind];
  const corrected = hasCorrectedInput(intent);
  const supersede = intent.kind === "SUPERSEDE";
  return (
    <>
      <div class="page-head">
        <div>
          <div class="crumbs">
            <a href={adminPath("/retry-intents")}>Retry intents</a> /{" "}
            <a href={intentHref} class="id">
              {intent.id}
            </a>{" "}
            / execute
          </div>
          <h1>Execute {names.intent.toLowerCase()}</h1>
        </div>
      </div>
      <section class="panel confirm" aria-labelledby="confirm-title">
        <header>
          <h2 id="confirm-title">Confirm</h2>
        </header>
        <div class="panel-body">
          <p class="warning">{EXECUTE_WARNING}</p>
          <SameVersionWarning intent={intent} versions={versions} />
          <p id="will-run">
            It will run generator <span class="mono">{sourceJob.generator}</span>
            {versions.current ? (
              <>
                {" "}
                at its current version, <span class="mono">{versions.current}</span>,
              </>
            ) : null}{" "}
            {corrected
              ? "with the corrected input shown below instead of the input of job"
              : "again with the input of job"}{" "}
            <JobLink id={sourceJob.id} /> <JobStatusBadge status={sourceJob.status} />, as a new job
            linked to it.{" "}
            {supersede
              ? "The completed job and its output stay as they are; the new job's output becomes the chain's latest."
              : "The failed job stays as it is."}{" "}
            This intent is consumed and cannot be executed again.
          </p>
          <dl class="meta">
            <dt>Kind</dt>
            <dd>{names.kind}</dd>
            <dt>Reason</dt>
            <dd>
              <span class="chip">{intent.reasonCode}</span> {intent.reasonText}
            </dd>
            <dt>Approved by</dt>
            <dd>
              <Actor actor={intent.approvedBy} full />
            </dd>
            <dt>Source ran under</dt>
            <dd>
              {versions.source ? (
                <span class="mono">{versions.source}</span>
              ) : (
                <span class="faint">not recorded</span>
              )}
            </dd>
          </dl>
          <div class="field" id="run-input">
            {corrected ? (
              <ReadOnlyJsonComparison
                before={sourceJob.input}
                after={intent.input}
                beforeLabel="Before: the source job's input"
                afterLabel="After: the input the new job runs with"
              />
            ) : (
              <>
                <span class="subtle">The input the new job runs with, unchanged:</span>
                <ReadOnlyJsonViewer value={sourceJob.input} label="input" />
              </>
            )}
          </div>
          <form method="post" action={`${intentHref}/execute`} class="actions confirm-actions">
            <CsrfField />
            <button type="submit" class="button button-primary">
              {supersede ? "Confirm: create the new job" : "Confirm: create the retry job"}
            </button>
            <a href={intentHref}>Cancel</a>
          </form>
        </div>
      </section>
    </>
  );
};
