import type { FC } from "hono/jsx";
import type { Job } from "../../db/schema";
import type { RetryState } from "../../functions/domain/read-models";
import { IntentLink, JobLink } from "./links";
import { JobStatusBadge } from "./status-badge";
import { Time } from "./time";

/**
 * What has been decided about a job: its retry (or supersession) and where that stands, the
 * intent waiting for a decision, a person's rejection (leaving it failed was the decision), or,
 * for a failure with none of those, that it needs one.
 */
const RetryCell: FC<{ job: Job; state: RetryState | undefined }> = ({ job, state }) => {
  if (state?.retryJobId) {
    return (
      <span class="retry-state">
        <span class="badge badge-consumed">
          {job.status === "COMPLETED" ? "superseded" : "retried"}
        </span>
        <JobLink id={state.retryJobId} short />
        {state.retryStatus ? (
          <span class="subtle nowrap">{state.retryStatus.toLowerCase()}</span>
        ) : null}
      </span>
    );
  }
  if (state?.pendingIntentId) {
    return (
      <span class="retry-state">
        <span class="badge badge-awaiting">intent pending</span>
        <IntentLink id={state.pendingIntentId} short />
      </span>
    );
  }
  if (state?.rejectedIntentId) {
    return (
      <span class="retry-state" title="A person rejected retrying it: left failed on purpose">
        <span class="badge badge-rejected">rejected</span>
        <IntentLink id={state.rejectedIntentId} short />
      </span>
    );
  }
  if (job.status === "FAILED") return <span class="subtle nowrap">needs a decision</span>;
  return <span class="faint">—</span>;
};

/**
 * Jobs, newest first, with what has been decided about each failure. Each cell names its column
 * (`data-label`), which a narrow screen shows beside it when the rows become cards.
 */
export const JobTable: FC<{ jobs: Job[]; retryStates: Map<string, RetryState> }> = ({
  jobs,
  retryStates,
}) => (
  <div class="table-wrap" id="jobs-table">
    <table class="grid cards">
      <thead>
        <tr>
          <th scope="col">Job</th>
          <th scope="col">Status</th>
          <th scope="col">Generator</th>
          <th scope="col">Error</th>
          <th scope="col">Created</th>
          <th scope="col">Finished</th>
          <th scope="col">Lineage</th>
          <th scope="col">Retry</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((job) => (
          <tr>
            <td data-label="Job">
              <JobLink id={job.id} short />
            </td>
            <td data-label="Status">
              <JobStatusBadge status={job.status} />
            </td>
            <td data-label="Generator">
              <span class="chip">{job.generator}</span>
            </td>
            <td class="wrap error-text" data-label="Error">
              {job.error ? (
                <span>
                  <span class="mono">{job.error.code}</span>{" "}
                  <span class="subtle">{job.error.message}</span>
                </span>
              ) : (
                <span class="faint">—</span>
              )}
            </td>
            <td data-label="Created">
              <Time value={job.createdAt} relative />
            </td>
            <td data-label="Finished">
              <Time value={job.finishedAt} relative />
            </td>
            <td data-label="Lineage">
              {job.retryOfJobId ? (
                <span class="nowrap">
                  retry of <JobLink id={job.retryOfJobId} short />
                </span>
              ) : (
                <span class="faint">original</span>
              )}
            </td>
            <td data-label="Retry">
              <RetryCell job={job} state={retryStates.get(job.id)} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);
