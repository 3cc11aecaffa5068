import type { SurgeConfig } from "../../functions/config/signals";
import type { Surge } from "../../functions/domain/signals";
import { adminPath } from "../context";
import { Actor } from "./actor";
import { BatchLink } from "./links";

/**
 * The day before the last hour, in words: a mean of 0 is a day without retries, which "a mean
 * of 0.00" hides.
 */
export function trailingDayWords(surge: Surge, factor: number): string {
  const mean = surge.trailingHourlyMean ?? 0;
  if (mean === 0) return "with none in the 24 hours before";
  return `more than ${factor} times the hourly mean of the 24 hours before (${mean.toFixed(2)})`;
}

/**
 * A warning on every admin page while retries surge: whoever is about to approve more retries
 * should know that many are being made right now. When most of them came from executing one
 * batch, it names the batch and who executed it: an admin's own recovery, not a new wave of
 * failures. The surge is read with the session, in the page's own statement, beside its caller
 * (pageContextSql), so the banner costs no round trip of its own.
 */
export function SurgeBanner({ surge, config }: { surge: Surge | undefined; config: SurgeConfig }) {
  if (!surge?.surging) return null;
  const { lastHour, fromBatch } = surge;
  return (
    <div class="notice notice-warn surge-banner" role="status">
      <p>
        <strong>Retry surge.</strong> {lastHour} retry {lastHour === 1 ? "job was" : "jobs were"}{" "}
        created in the last hour, {trailingDayWords(surge, config.factor)}.{" "}
        {fromBatch ? (
          <>
            {fromBatch.retries} of them came from batch <BatchLink id={fromBatch.id} />, executed by{" "}
            <Actor actor={fromBatch.executedBy} />: a recovery an admin ran, not new failures.
            Follow its jobs on the batch's page before approving more.{" "}
          </>
        ) : (
          "Check what is failing before approving more. "
        )}
        <a href={adminPath("/signals")}>See the signals</a>
      </p>
    </div>
  );
}
