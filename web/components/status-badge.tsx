import type { FC } from "hono/jsx";
import type { JobStatus, RetryIntentStatus } from "../../db/schema";

const JOB_CLASS: Record<JobStatus, string> = {
  PENDING: "badge-queued",
  RUNNING: "badge-running",
  COMPLETED: "badge-completed",
  FAILED: "badge-failed",
};

const INTENT_CLASS: Record<RetryIntentStatus, string> = {
  PENDING: "badge-awaiting",
  CONSUMED: "badge-consumed",
  REJECTED: "badge-rejected",
};

/** A job's status in colour; the word itself is always shown, so colour is never the only cue. */
export const JobStatusBadge: FC<{ status: JobStatus }> = ({ status }) => (
  <span class={`badge ${JOB_CLASS[status]}`}>{status}</span>
);

export const IntentStatusBadge: FC<{ status: RetryIntentStatus }> = ({ status }) => (
  <span class={`badge ${INTENT_CLASS[status]}`}>{status}</span>
);
