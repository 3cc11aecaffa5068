import type { FC } from "hono/jsx";
import type { LineageEntry } from "../../functions/domain/jobs";
import { IntentLink, shortId } from "./links";
import { JobStatusBadge } from "./status-badge";

/**
 * What a job is to its chain: the original, a retry of a failed job, or the job that superseded
 * a completed one's result (told by the status of the job before it, which never changes once
 * finished).
 */
function stepLabel(entries: LineageEntry[], index: number): string {
  const entry = entries[index];
  if (!entry || entry.depth === 0) return "original";
  return entries[index - 1]?.job.status === "COMPLETED" ? "supersedes" : `retry ${entry.depth}`;
}

/**
 * The retry chain a job belongs to, oldest first: its retries and supersessions. Every job
 * links to its neighbours, and the intent that authorised each step sits on the arrow between
 * them.
 */
export const Lineage: FC<{ entries: LineageEntry[]; currentId: string }> = ({
  entries,
  currentId,
}) => (
  <ol class="lineage" aria-label="Retry chain, oldest first">
    {entries.map(({ job }, index) => (
      <li>
        {job.retryIntentId ? (
          <span class="link">
            <span class="arrow" aria-hidden="true">
              →
            </span>
            <span>
              via <IntentLink id={job.retryIntentId} short />
            </span>
          </span>
        ) : null}
        <a
          class="node"
          href={`/admin/jobs/${encodeURIComponent(job.id)}`}
          aria-current={job.id === currentId ? "page" : undefined}
        >
          <span class="depth">{stepLabel(entries, index)}</span>
          <span class="node-row">
            <span class="id" title={job.id}>
              {shortId(job.id)}
            </span>
            <JobStatusBadge status={job.status} />
          </span>
        </a>
      </li>
    ))}
  </ol>
);
