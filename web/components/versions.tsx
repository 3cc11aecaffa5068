import type { FC } from "hono/jsx";
import type { JobStatus, RetryIntentKind, RetryReasonCode } from "../../db/schema";
import type { GeneratorVersions } from "../../functions/domain/read-models";
import { Notice } from "./notice";

const Version: FC<{ value: string }> = ({ value }) => <span class="mono">{value}</span>;

/**
 * "ran under demo@1; a new job runs under demo@1 now": the version a job ran under (its output's
 * or its failure's) beside the one a retry or a supersession of it would run under.
 */
export const JobVersions: FC<{ versions: GeneratorVersions; status: JobStatus }> = ({
  versions,
  status,
}) => (
  <span class="versions">
    {versions.source ? (
      <>
        ran under <Version value={versions.source} />
      </>
    ) : status === "PENDING" || status === "RUNNING" ? (
      "has not finished running"
    ) : (
      "ran under a version that was not recorded"
    )}
    ;{" "}
    {versions.current ? (
      <>
        a new job runs under <Version value={versions.current} /> now
      </>
    ) : (
      "the catalog holds no version of its generator now"
    )}
  </span>
);

/**
 * Why an intent's new job may disappoint: its reason says the prompt or generator improved, yet
 * the version that failed (or produced the output being replaced) is still the current one, so
 * only a corrected input can make a difference. Undefined when there is nothing to warn about,
 * or when the old version is unknown.
 */
export function sameVersionWarning(
  intent: { kind: RetryIntentKind; reasonCode: RetryReasonCode },
  versions: GeneratorVersions,
): string | undefined {
  if (intent.reasonCode !== "IMPROVED_PROMPT") return undefined;
  if (versions.source === null || versions.source !== versions.current) return undefined;
  const what =
    intent.kind === "SUPERSEDE"
      ? "the same version that produced this output will run"
      : "the same version that failed will run";
  return `Reason IMPROVED_PROMPT, but ${what}: ${versions.source} is still the current version of the generator. Unless the improvement is in the input, expect the same ${intent.kind === "SUPERSEDE" ? "output" : "failure"}.`;
}

/** The same-version warning as a notice, where there is one. */
export const SameVersionWarning: FC<{
  intent: { kind: RetryIntentKind; reasonCode: RetryReasonCode };
  versions: GeneratorVersions;
}> = ({ intent, versions }) => {
  const warning = sameVersionWarning(intent, versions);
  return warning ? (
    <Notice kind="warn" id="same-version-warning">
      {warning}
    </Notice>
  ) : null;
};
