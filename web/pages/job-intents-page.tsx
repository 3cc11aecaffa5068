import type { FC } from "hono/jsx";
import type { Job, RetryIntent } from "../../db/schema";
import { IntentTable } from "../components/intent-table";
import { JobLink } from "../components/links";
import { JobStatusBadge } from "../components/status-badge";
import { adminPath } from "../context";

/** Every retry intent recorded for one job, with the decision each received. */
export const JobIntentsPage: FC<{
  job: Job;
  intents: RetryIntent[];
  createdJobs: Map<string, string>;
}> = ({ job, intents, createdJobs }) => (
  <>
    <div class="page-head">
      <div>
        <div class="crumbs">
          <a href={adminPath()}>Jobs</a> / <JobLink id={job.id} /> / retry intents
        </div>
        <div class="title">
          <h1>Retry intents</h1>
          <JobStatusBadge status={job.status} />
        </div>
      </div>
      <a href={`${adminPath(`/jobs/${encodeURIComponent(job.id)}`)}#retry`}>
        Back to the job's retry section
      </a>
    </div>
    <section class="panel" aria-label="Retry intents for this job">
      {intents.length > 0 ? (
        <IntentTable intents={intents} createdJobs={createdJobs} />
      ) : (
        <p class="empty">No retry intent has been recorded for this job.</p>
      )}
    </section>
  </>
);
