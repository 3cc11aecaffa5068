import type { FC } from "hono/jsx";
import type { LineageStep, StepIntent } from "../../functions/domain/read-models";
import { Actor } from "./actor";
import { AttemptDuration } from "./duration";
import { JobStatusBadge } from "./status-badge";

/**
 * What a job is to its chain: the original, a retry of a failed job, or the job that superseded
 * a completed one's result (told by the status of the job before it, which never changes once
 * finished).
 */
function stepLabel(entries: LineageStep[], index: number): string {
  const entry = entries[index];
  if (!entry || entry.depth === 0) return "original";
  return entries[index - 1]?.job.status === "COMPLETED" ? "supersedes" : `retry ${entry.depth}`;
}

/** The decision that made a job of the chain, between it and the job before: why, and who. */
const Decision: FC<{ intent: StepIntent }> = ({ intent }) => (
  <p class="link">
    <span class="arrow" aria-hidden="true">
      ↓
    </span>
    <span class="decision">
      <a href={`/admin/retry-intents/${encodeURIComponent(intent.id)}`}>
        {intent.kind === "SUPERSEDE" ? "Superseded" : "Retried"} by intent,{" "}
        <span class="mono">{intent.reasonCode}</span>
      </a>
      : <span class="reason-text">{intent.reasonText}</span> <span class="faint">·</span> approved
      by <Actor actor={intent.approvedBy} />
      {intent.correctedInput ? <span class="faint"> · with a corrected input</span> : null}
      {intent.budgetOverride ? <span class="faint"> · past the budget, by an override</span> : null}
    </span>
  </p>
);

/**
 * The retry chain a job belongs to, oldest first: its retries and supersessions. Each attempt
 * says how it ended (its error code and message, whole), how long it took, and links to its
 * page; between two attempts, the intent that made the later one says why, and links to it.
 */
export const Lineage: FC<{ entries: LineageStep[]; currentId: string }> = ({
  entries,
  currentId,
}) => (
  <ol class="lineage" aria-label="Retry chain, oldest first">
    {entries.map(({ job, intent }, index) => (
      <li>
        {intent ? <Decision intent={intent} /> : null}
        <div class="node" aria-current={job.id === currentId ? "page" : undefined}>
          <span class="node-row">
            <span class="depth">{stepLabel(entries, index)}</span>
            <JobStatusBadge status={job.status} />
            <a class="id" href={`/admin/jobs/${encodeURIComponent(job.id)}`}>
              {job.id}
            </a>
            {job.id === currentId ? <span class="faint">this job</span> : null}
          </span>
          {job.error ? (
            <span class="node-error">
              <span class="code">{job.error.code}</span> {job.error.message}
            </span>
          ) : null}
          <span class="node-time">
            attempt: <AttemptDuration job={job} />
          </span>
        </div>
      </li>
    ))}
  </ol>
);
