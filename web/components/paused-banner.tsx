import type { FC } from "hono/jsx";
import type { PausedGenerator } from "../../functions/domain/read-models";
import { adminPath } from "../context";
import { Actor } from "./actor";
import { Time } from "./time";

/** The most of a pause reason the banner shows; the generators page shows all of it. */
const REASON_SHOWN = 200;

const clip = (text: string) =>
  text.length > REASON_SHOWN ? `${text.slice(0, REASON_SHOWN).trimEnd()}…` : text;

/**
 * A note on every admin page while a generator is paused: whoever wonders why jobs wait, or is
 * about to approve retries of that generator, learns that someone pulled the brake, who, when
 * and why. The paused generators are read with the session, in the page's own statement,
 * beside its caller (pageContextSql), so the banner costs no round trip of its own.
 */
export const PausedBanner: FC<{ paused: PausedGenerator[] }> = ({ paused }) => {
  if (paused.length === 0) return null;
  return (
    <div class="notice notice-warn paused-banner" role="status" aria-label="Paused generators">
      <ul>
        {paused.map((g) => (
          <li>
            <strong>
              Paused: <span class="mono">{g.name}</span>
            </strong>{" "}
            — by <Actor actor={g.pausedBy} />, <Time value={g.pausedAt} relative />:{" "}
            <span class="pause-reason">{clip(g.pauseReason)}</span>
          </li>
        ))}
      </ul>
      <p>
        {paused.length === 1 ? "Its jobs wait" : "Their jobs wait"} PENDING: none is failed, and no
        worker claims them until an admin resumes the generator.{" "}
        <a href={adminPath("/generators")}>See the generators</a>
      </p>
    </div>
  );
};
