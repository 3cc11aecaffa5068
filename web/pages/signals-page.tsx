import type { FC } from "hono/jsx";
import { jobStatus, type RetryReasonCode, retryReasonCode } from "../../db/schema";
import type { HourCounts, HourlySignals, SignalTotals } from "../../functions/domain/signals";
import { BarChart } from "../components/chart";
import { formatUtc } from "../components/time";
import { adminPath } from "../context";
import { brakeHref } from "../forms";
import { jobsHref } from "./jobs-page";

const pad = (n: number) => String(n).padStart(2, "0");
const clock = (date: Date) => `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}`;

/** "3 min", "2 h 5 min", "4 d 1 h": how long the oldest pending job has waited. */
export function formatWait(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 1) return `${Math.floor(seconds)} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return hours % 24 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${Math.floor(hours / 24)} d`;
}

interface ReasonRow {
  reasonCode: RetryReasonCode;
  total: number;
  unfinished: number;
  completed: number;
  failed: number;
}

/** Retry jobs per reason code; reasons never used are left out. */
function reasonRows(totals: SignalTotals): ReasonRow[] {
  return retryReasonCode.enumValues
    .map((reasonCode) => {
      const of = (outcome: string) =>
        totals.retryJobs.find((r) => r.reasonCode === reasonCode && r.outcome === outcome)?.count ??
        0;
      const completed = of("completed");
      const failed = of("failed");
      const unfinished = of("pending") + of("running");
      return { reasonCode, total: completed + failed + unfinished, unfinished, completed, failed };
    })
    .filter((row) => row.total > 0);
}

/** Completed out of finished, as a whole percentage; undefined while none has finished. */
export function successRate(completed: number, failed: number): string | undefined {
  const finished = completed + failed;
  return finished === 0 ? undefined : `${Math.round((completed / finished) * 100)} %`;
}

const STATUS_LABEL: Record<string, string> = {
  PENDING: "Pending",
  RUNNING: "Running",
  COMPLETED: "Completed",
  FAILED: "Failed",
};

/** What the page knows of the brake: the catalog's generators, the paused ones, who may pull it. */
export interface BrakeView {
  catalog: ReadonlySet<string>;
  paused: ReadonlySet<string>;
  canMutate: boolean;
}

/**
 * Beside a failing generator: "paused" while it is, else for an admin the way to pause it. A
 * name the catalog does not hold (old jobs of a generator no worker runs) has no brake.
 */
const BrakeCell: FC<{ generator: string; brake: BrakeView }> = ({ generator, brake }) => {
  if (brake.paused.has(generator)) {
    return (
      <a href={adminPath(`/generators#generator-${generator}`)} class="badge badge-awaiting">
        paused
      </a>
    );
  }
  if (!brake.catalog.has(generator)) {
    return (
      <span class="faint" title="Not in the generator catalog">
        —
      </span>
    );
  }
  return brake.canMutate ? (
    <a href={brakeHref(generator, "pause")}>
      Pause<span class="sr-only"> {generator}</span>…
    </a>
  ) : (
    <span class="subtle">running</span>
  );
};

/**
 * What is failing and how retries fare: the figures of `/metrics`, the last 24 hours as a chart,
 * and the surge rule with its numbers; beside each failing generator, the way to pause it.
 * Read-only for viewers.
 */
export const SignalsPage: FC<{ totals: SignalTotals; hourly: HourlySignals; brake: BrakeView }> = ({
  totals,
  hourly,
  brake,
}) => {
  const { surge, hours } = hourly;
  const failures24 = hours.reduce((sum, h) => sum + h.failures, 0);
  const retries24 = hours.reduce((sum, h) => sum + h.retries, 0);
  const busiest = hours.reduce<HourCounts | undefined>(
    (most, h) => (!most || h.failures > most.failures ? h : most),
    undefined,
  );
  const reasons = reasonRows(totals);
  const pendingIntents = totals.retryIntents
    .filter((i) => i.status === "PENDING")
    .reduce((sum, i) => sum + i.count, 0);
  return (
    <>
      <div class="page-head">
        <div>
          <h1>Signals</h1>
          <p class="subtle">
            What is failing and how retries fare: the figures <code>/metrics</code> exports, read at{" "}
            {formatUtc(hourly.at)}.
          </p>
        </div>
      </div>

      <dl class="signal-figures">
        {jobStatus.enumValues.map((status) => (
          <div>
            <dt class="subtle">{STATUS_LABEL[status]} jobs</dt>
            <dd>
              <a href={jobsHref(status)}>{totals.jobs[status]}</a>
            </dd>
          </div>
        ))}
        <div>
          <dt class="subtle">Oldest pending job waits</dt>
          <dd>{totals.jobs.PENDING > 0 ? formatWait(totals.oldestPendingJobAgeSeconds) : "—"}</dd>
        </div>
        <div>
          <dt class="subtle">Intents awaiting execution</dt>
          <dd>{pendingIntents}</dd>
        </div>
      </dl>

      <section class="panel" aria-labelledby="last-day">
        <header>
          <h2 id="last-day">Last 24 hours</h2>
          <span class="subtle">
            {failures24} {failures24 === 1 ? "failure" : "failures"}, {retries24}{" "}
            {retries24 === 1 ? "retry" : "retries"}
          </span>
        </header>
        <div class="panel-body">
          <BarChart
            id="signals-chart"
            title="Failures and retries per hour, last 24 hours"
            description={
              `${failures24} jobs failed and ${retries24} retry jobs were created in the 24 hours to ${formatUtc(hourly.at)}.` +
              (busiest && busiest.failures > 0
                ? ` The most failures in one hour: ${busiest.failures}, in the hour to ${clock(busiest.end)} UTC.`
                : "")
            }
            groups={hours.map((h) => ({
              tick: clock(h.end),
              label: `${clock(h.start)}–${clock(h.end)} UTC`,
            }))}
            series={[
              { name: "Failures", key: "failures", values: hours.map((h) => h.failures) },
              { name: "Retries", key: "retries", values: hours.map((h) => h.retries) },
            ]}
            tickEvery={4}
            groupHeading="Hour (UTC)"
          />
        </div>
      </section>

      <div class="columns">
        <section class="panel" aria-labelledby="failures-by">
          <header>
            <h2 id="failures-by">Failures by generator and error code</h2>
            <span class="subtle">all time</span>
          </header>
          {totals.failures.length > 0 ? (
            <div class="table-wrap" id="failures-table">
              <table class="grid cards">
                <thead>
                  <tr>
                    <th scope="col">Generator</th>
                    <th scope="col">Error code</th>
                    <th scope="col" class="num">
                      Failed jobs
                    </th>
                    <th scope="col">Brake</th>
                  </tr>
                </thead>
                <tbody>
                  {totals.failures.map((f) => (
                    <tr>
                      <td data-label="Generator">
                        <a href={jobsHref("FAILED", f.generator)}>{f.generator}</a>
                      </td>
                      <td data-label="Error code">
                        <code>{f.errorCode}</code>
                      </td>
                      <td class="num" data-label="Failed jobs">
                        {f.count}
                      </td>
                      <td data-label="Brake">
                        <BrakeCell generator={f.generator} brake={brake} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p class="empty">No job has failed.</p>
          )}
        </section>

        <section class="panel" aria-labelledby="surge-rule">
          <header>
            <h2 id="surge-rule">Retry surge</h2>
            {surge.surging ? (
              <span class="badge badge-failed">surging</span>
            ) : (
              <span class="badge badge-completed">calm</span>
            )}
          </header>
          <div class="panel-body">
            <dl class="meta">
              <dt>Last hour</dt>
              <dd>{surge.lastHour} retry jobs</dd>
              <dt>Hourly mean</dt>
              <dd>
                {(surge.trailingHourlyMean ?? 0).toFixed(2)}{" "}
                <span class="subtle">over the 24 hours before</span>
              </dd>
              <dt>Rule</dt>
              <dd>
                more than {surge.factor} × the mean, and at least {surge.min}{" "}
                <span class="subtle">(RETRY_SURGE_FACTOR, RETRY_SURGE_MIN)</span>
              </dd>
            </dl>
            {surge.surging ? (
              <p class="surge-brake">
                When one generator's failures drive the retries, it can be paused from the{" "}
                <a href={adminPath("/generators")}>generators page</a>: its jobs wait PENDING, none
                is failed, and they run once it is resumed.
              </p>
            ) : null}
          </div>
        </section>
      </div>

      <section class="panel" aria-labelledby="retries-by">
        <header>
          <h2 id="retries-by">Retries by reason</h2>
          <span class="subtle">success rate: completed of finished</span>
        </header>
        {reasons.length > 0 ? (
          <div class="table-wrap">
            <table class="grid cards">
              <thead>
                <tr>
                  <th scope="col">Reason code</th>
                  <th scope="col" class="num">
                    Retry jobs
                  </th>
                  <th scope="col" class="num">
                    Unfinished
                  </th>
                  <th scope="col" class="num">
                    Completed
                  </th>
                  <th scope="col" class="num">
                    Failed
                  </th>
                  <th scope="col" class="num">
                    Success rate
                  </th>
                </tr>
              </thead>
              <tbody>
                {reasons.map((r) => (
                  <tr>
                    <td data-label="Reason code">
                      <code>{r.reasonCode}</code>
                    </td>
                    <td class="num" data-label="Retry jobs">
                      {r.total}
                    </td>
                    <td class="num" data-label="Unfinished">
                      {r.unfinished}
                    </td>
                    <td class="num" data-label="Completed">
                      {r.completed}
                    </td>
                    <td class="num" data-label="Failed">
                      {r.failed}
                    </td>
                    <td class="num" data-label="Success rate">
                      {successRate(r.completed, r.failed) ?? <span class="faint">—</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p class="empty">No retry job yet.</p>
        )}
      </section>
    </>
  );
};
