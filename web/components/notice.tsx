import type { Child, FC } from "hono/jsx";
import type { DomainError } from "../../functions/domain/errors";
import { JobLink } from "./links";

type Kind = "error" | "success" | "info" | "warn";

/** A message block; errors are announced to screen readers at once, other notices politely. */
export const Notice: FC<{ kind: Kind; id?: string; children?: Child }> = ({
  kind,
  id,
  children,
}) => (
  <div id={id} class={`notice notice-${kind}`} role={kind === "error" ? "alert" : "status"}>
    {children}
  </div>
);

function stringDetail(error: DomainError, key: string): string | undefined {
  const value = error.details?.[key];
  return typeof value === "string" ? value : undefined;
}

/** What the operator can do next about a refusal, with links to what it is about. */
function nextStep(error: DomainError): Child {
  const jobId = stringDetail(error, "jobId");
  const intentId = stringDetail(error, "intentId");
  switch (error.code) {
    case "INTENT_NOT_PENDING":
      return jobId ? (
        <p>
          It was executed meanwhile and created job <JobLink id={jobId} />.
        </p>
      ) : (
        <p>Nothing was changed. The intent's current state is shown below.</p>
      );
    case "INTENT_ALREADY_PENDING":
      return intentId ? (
        <p>
          Review the pending intent instead:{" "}
          <a href={`/admin/retry-intents/${intentId}`} class="id">
            {intentId}
          </a>
          .
        </p>
      ) : null;
    case "JOB_ALREADY_RETRIED": {
      const retryJobId = stringDetail(error, "retryJobId");
      if (retryJobId && stringDetail(error, "kind") === "SUPERSEDE") {
        return (
          <p>
            Its successor is job <JobLink id={retryJobId} />. To replace the newest result,
            supersede the newest job of the chain.
          </p>
        );
      }
      return retryJobId ? (
        <p>
          Its retry is job <JobLink id={retryJobId} />. To try again, retry the newest failed job of
          the chain.
        </p>
      ) : null;
    }
    case "VALIDATION_FAILED": {
      // An input the generator's schema refuses: each place it goes wrong (up to 20), not only
      // the first.
      const issues = error.details?.issues;
      if (!Array.isArray(issues) || issues.length === 0) return null;
      return (
        <ul class="issues">
          {(issues as { path?: unknown; message?: unknown }[]).map((issue) => (
            <li>
              <span class="mono">
                {Array.isArray(issue.path) && issue.path.length > 0
                  ? issue.path.join(".")
                  : "(the whole input)"}
              </span>
              : {String(issue.message ?? "")}
            </li>
          ))}
        </ul>
      );
    }
    case "FOUR_EYES_REQUIRED":
      return <p>Another admin has to execute it.</p>;
    case "INTENT_EXPIRED":
      return (
        <p>
          An expired intent cannot be executed; the worker's sweep will reject it. Reject it now to
          approve a new one at once.
        </p>
      );
    case "RETRY_BUDGET_EXHAUSTED":
      return (
        <p>
          To approve it anyway, tick "Override the retry budget", choose reason code OTHER and say
          in the reason why this exception is needed.
        </p>
      );
    case "BATCH_PREVIEW_STALE":
      return (
        <p>
          Nothing was approved. The preview below shows the jobs the filter matches now: check them
          and approve again.
        </p>
      );
    case "BATCH_EMPTY":
      return <p>Nothing was approved. Widen the filter, or retry jobs one by one.</p>;
    case "BATCH_TOO_LARGE":
      return <p>Nothing was approved. Narrow the filter below and preview again.</p>;
    case "GENERATOR_ALREADY_PAUSED":
      return (
        <p>
          Nothing was changed: someone paused it first. The list below says who and why; resume it
          once the cause is dealt with.
        </p>
      );
    case "GENERATOR_NOT_PAUSED":
      return <p>Nothing was changed: its jobs are being claimed as usual.</p>;
    default:
      return null;
  }
}

/** A refusal from the domain, shown as it was meant: its code, its sentence, and a way on. */
export const DomainErrorNotice: FC<{ error: DomainError }> = ({ error }) => (
  <Notice kind="error">
    <p>
      <strong class="code">{error.code}</strong>
      {error.message}
    </p>
    {nextStep(error)}
  </Notice>
);
