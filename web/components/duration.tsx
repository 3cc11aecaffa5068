/** How long a job's attempt took, as the job page and its lineage show it. */
import type { FC } from "hono/jsx";
import type { Job } from "../../db/schema";
import { databaseNow } from "./time";

/**
 * A span of time in its two largest units, rounded down ("840 ms", "4.2 s", "3 min 12 s",
 * "2 h", "3 d 4 h"): enough to tell a quick refusal from a run that waited on a timeout.
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.floor(ms)} ms`;
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return units(minutes, "min", seconds % 60, "s");
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return units(hours, "h", minutes % 60, "min");
  return units(Math.floor(hours / 24), "d", hours % 24, "h");
}

/** "3 min 12 s", or "3 min" when the smaller unit is 0. */
const units = (large: number, unit: string, small: number, smallUnit: string) =>
  small > 0 ? `${large} ${unit} ${small} ${smallUnit}` : `${large} ${unit}`;

/** A span of time, with its machine-readable form (an HTML duration) in `datetime`. */
export const Duration: FC<{ ms: number }> = ({ ms }) => {
  const shown = Math.max(0, ms);
  return (
    <time datetime={`PT${(shown / 1000).toFixed(3)}S`} class="nowrap">
      {formatDuration(shown)}
    </time>
  );
};

/**
 * How long a job's attempt took: from its claim to its end, or, while it runs, so far by the
 * database's clock (the one that stamped the claim). A job that was never claimed has none.
 */
export const AttemptDuration: FC<{ job: Pick<Job, "status" | "claimedAt" | "finishedAt"> }> = ({
  job,
}) => {
  if (!job.claimedAt) {
    return (
      <span class="faint">
        {job.status === "PENDING" ? "— (not claimed yet)" : "— (never claimed)"}
      </span>
    );
  }
  const started = job.claimedAt.getTime();
  if (job.status === "RUNNING" || !job.finishedAt) {
    return (
      <span>
        running for <Duration ms={databaseNow() - started} /> so far
      </span>
    );
  }
  return <Duration ms={job.finishedAt.getTime() - started} />;
};
