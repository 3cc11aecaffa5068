import type { FC } from "hono/jsx";
import type { LineageEntry } from "../../functions/domain/jobs";
import { IntentLink, shortId } from "./links";
import { JobStatusBadge } from "./status-badge";

/**
 * The retry chain a job belongs to, oldest first. Every job links to its neighbours, and the
 * intent that authorised each step sits on the arrow between them.
 */
export const Lineage: FC<{ entries: LineageEntry[]; currentId: string }> = ({
  entries,
  currentId,
}) => (
  <ol class="lineage" aria-label="Retry chain, oldest first">
    {entries.map(({ job, depth }) => (
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
          <span class="depth">{depth === 0 ? "original" : `retry ${depth}`}</span>
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
