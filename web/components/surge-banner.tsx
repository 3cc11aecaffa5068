import type { Db } from "../../db/types";
import type { SurgeConfig } from "../../functions/config/signals";
import { readSurge } from "../../functions/domain/signals";
import { adminPath } from "../context";

/**
 * A warning on every admin page while retries surge: whoever is about to approve more retries
 * should know that many are being made right now. It costs each page one small statement
 * (readSurge: under a millisecond unless the last hour reached RETRY_SURGE_MIN), and a page that
 * cannot ask still renders, without it.
 */
export async function SurgeBanner({ db, config }: { db: Db; config: SurgeConfig }) {
  let surging: boolean;
  let lastHour = 0;
  try {
    const surge = await readSurge(db, config);
    surging = surge.surging;
    lastHour = surge.lastHour;
  } catch (error) {
    console.error("surge banner: the surge could not be read", error);
    return null;
  }
  if (!surging) return null;
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
