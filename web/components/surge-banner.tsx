import type { SurgeConfig } from "../../functions/config/signals";
import type { Surge } from "../../functions/domain/signals";
import { adminPath } from "../context";

/**
 * A warning on every admin page while retries surge: whoever is about to approve more retries
 * should know that many are being made right now. The surge is read with the session, in the
 * page's own statement, beside its caller (pageContextSql), so the banner costs no round trip of its own.
 */
export function SurgeBanner({ surge, config }: { surge: Surge | undefined; config: SurgeConfig }) {
  if (!surge?.surging) return null;
  const lastHour = surge.lastHour;
  return (
    <div class="notice notice-warn surge-banner" role="status">
      <p>
        <strong>Retry surge.</strong> {lastHour} retry {lastHour === 1 ? "job was" : "jobs were"}{" "}
        created in the last hour, more than {config.factor} times the hourly mean of the day before.
        Check what is failing before approving more.{" "}
        <a href={adminPath("/signals")}>See the signals</a>
      </p>
    </div>
  );
}
