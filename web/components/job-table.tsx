import type { FC } from "hono/jsx";
import type { Job } from "../../db/schema";
import type { RetryState } from "../../functions/domain/read-models";
import { IntentLink, JobLink } from "./links";
import { JobStatusBadge } from "./status-badge";
import { Time } from "./time";

const RetryCell: FC<{ job: Job; state: RetryState | undefined }> = ({ job, state }) => {
  if (state?.retryJobId) {
    return (
      <span class="retry-state">
        <span class="badge badge-consumed">retried</span>
        <JobLink id={state.retryJobId} short />
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
  if (job.status === "FAILED") return <span class="subtle nowrap">needs a decision</span>;
  return <span class="faint">—</span>;
};

/** Jobs, newest first, with what has been decided about each failure. */
export const JobTable: FC<{ jobs: Job[]; retryStates: Map<string, RetryState> }> = ({
  jobs,
  retryStates,
}) => (
  <div class="table-wrap">
    <table class="grid">
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
            <td>
              <JobLink id={job.id} short />
            </td>
            <td>
              <JobStatusBadge status={job.status} />
            </td>
            <td>
              <span class="chip">{job.generator}</span>
            </td>
            <td
              class="clip"
              title={job.error ? `${job.error.code}: ${job.error.message}` : undefined}
            >
              {job.error ? (
                <span>
                  <span class="mono">{job.error.code}</span>{" "}
                  <span class="subtle">{job.error.message}</span>
                </span>
              ) : (
                <span class="faint">—</span>
              )}
            </td>
            <td>
              <Time value={job.createdAt} relative />
            </td>
            <td>
              <Time value={job.finishedAt} relative />
            </td>
            <td>
              {job.retryOfJobId ? (
                <span class="nowrap">
                  retry of <JobLink id={job.retryOfJobId} short />
                </span>
              ) : (
                <span class="faint">original</span>
              )}
            </td>
            <td>
              <RetryCell job={job} state={retryStates.get(job.id)} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);
