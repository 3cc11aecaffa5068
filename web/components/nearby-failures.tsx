/**
 * On a FAILED job's page: whether its failure is one of many, and the way to a retry batch of
 * them. A burst of one generator's failures with one code is what a batch is for.
 */
import type { FC } from "hono/jsx";
import type { Job } from "../../db/schema";
import { isDomainError } from "../../functions/domain/errors";
import type { NearbyFailures } from "../../functions/domain/read-models";
import { type BatchFilter, normaliseFilter } from "../../functions/domain/retry-batches";
import { previewHref } from "../batch-filter";
import { Notice } from "./notice";
import { formatUtc } from "./time";

/**
 * The batch filter of the window: this job's generator and error code, and the hour. Undefined
 * when a batch filter cannot hold them (an error code a generator made up with a space in it).
 */
function windowFilter(job: Job, nearby: NearbyFailures): BatchFilter | undefined {
  try {
    return normaliseFilter({
      generator: job.generator,
      errorCode: job.error?.code,
      failedAfter: nearby.failedAfter,
      failedBefore: nearby.failedBefore,
    });
  } catch (error) {
    if (isDomainError(error, "VALIDATION_FAILED")) return undefined;
    throw error;
  }
}

const At: FC<{ iso: string }> = ({ iso }) => (
  <time datetime={iso} class="nowrap">
    {formatUtc(new Date(iso))}
  </time>
);

/**
 * "3 other jobs of http failed with HTTP_STATUS_503 in the hour before this one; 2 of them have
 * no retry yet. Preview a retry batch…": the count is of the hour up to this job's failure (not
 * up to now), so the page of a failure tells of its own incident however late it is read. The
 * link, shown while any of them has no retry, fills the preview's filter with the same window.
 */
export const NearbyFailuresNotice: FC<{ job: Job; nearby: NearbyFailures }> = ({ job, nearby }) => {
  const code = job.error?.code ?? "";
  const filter = nearby.notRetried > 0 ? windowFilter(job, nearby) : undefined;
  const window = (
    <>
      (from <At iso={nearby.failedAfter} /> to <At iso={nearby.failedBefore} />)
    </>
  );
  return (
    <Notice kind="info" id="nearby-failures">
      {nearby.failed === 0 ? (
        <p>
          No other <span class="mono">{job.generator}</span> job failed with{" "}
          <span class="mono">{code}</span> in the hour before this one {window}.
        </p>
      ) : (
        <p>
          <strong>
            {nearby.failed} other {nearby.failed === 1 ? "job" : "jobs"}
          </strong>{" "}
          of <span class="mono">{job.generator}</span> failed with <span class="mono">{code}</span>{" "}
          in the hour before this one {window}; {nearby.notRetried} of them{" "}
          {nearby.notRetried === 1 ? "has" : "have"} no retry yet.
          {filter ? (
            <>
              {" "}
              <a href={previewHref(filter)} id="nearby-batch">
                Preview a retry batch of that hour's {code} failures →
              </a>
            </>
          ) : null}
        </p>
      )}
    </Notice>
  );
};
