import type { FC } from "hono/jsx";
import type { Job, RetryIntent } from "../../db/schema";
import { Actor } from "../components/actor";
import { CsrfField } from "../components/csrf-field";
import { JobLink } from "../components/links";
import { JobStatusBadge } from "../components/status-badge";
import { adminPath } from "../context";

/** The sentence every confirmation shows; tests and operators rely on its wording. */
export const EXECUTE_WARNING = "This will create a new regeneration job.";

/**
 * The confirmation step of Execute. It is a page rather than a script dialog so that the
 * flow works without JavaScript and the Confirm button is an ordinary POST form.
 */
export const ExecutePage: FC<{ intent: RetryIntent; sourceJob: Job }> = ({ intent, sourceJob }) => {
  const intentHref = adminPath(`/retry-intents/${encodeURIComponent(intent.id)}`);
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
          <h1>Execute retry intent</h1>
        </div>
      </div>
      <section class="panel confirm" aria-labelledby="confirm-title">
        <header>
          <h2 id="confirm-title">Confirm</h2>
        </header>
        <div class="panel-body">
          <p class="warning">{EXECUTE_WARNING}</p>
          <p>
            It will run generator <span class="mono">{sourceJob.generator}</span> again with the
            input of job <JobLink id={sourceJob.id} /> <JobStatusBadge status={sourceJob.status} />,
            as a new job linked to it. The failed job stays as it is. This intent is consumed and
            cannot be executed again.
          </p>
          <dl class="meta">
            <dt>Reason</dt>
            <dd>
              <span class="chip">{intent.reasonCode}</span> {intent.reasonText}
            </dd>
            <dt>Approved by</dt>
            <dd>
              <Actor actor={intent.approvedBy} full />
            </dd>
          </dl>
          <form method="post" action={`${intentHref}/execute`} class="actions confirm-actions">
            <CsrfField />
            <button type="submit" class="button button-primary">
              Confirm: create the retry job
            </button>
            <a href={intentHref}>Cancel</a>
          </form>
        </div>
      </section>
    </>
  );
};
